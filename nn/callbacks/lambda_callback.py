"""LambdaCallback: a callback made of functions, for what needs no class of its own."""
from .callback import Callback


class LambdaCallback(Callback):
    """Call the functions given at the matching hooks of ``fit``.

    ``on_epoch_begin(epoch, logs)`` and ``on_epoch_end(epoch, logs)``,
    ``on_train_begin(logs)`` and ``on_train_end(logs)``, ``on_train_batch_begin(batch,
    logs)`` and ``on_train_batch_end(batch, logs)``: the arguments are passed by
    position, as Keras passes them.  Example: ``LambdaCallback(on_epoch_end=lambda epoch,
    logs: print(epoch, logs['loss']))``.  Keras: ``keras.callbacks.LambdaCallback``, same
    arguments (not its ``**kwargs`` for further hooks: nn's callbacks have these six).
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None):
        given = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end,
                 "on_train_batch_begin": on_train_batch_begin,
                 "on_train_batch_end": on_train_batch_end}
        for name, function in given.items():
            if function is not None and not callable(function):
                raise TypeError(f"LambdaCallback {name} must be a function or None. "
                                f"Received: {name}={function!r}")
        self.functions = {name: function for name, function in given.items()
                          if function is not None}

    def _call(self, hook, *arguments):
        function = self.functions.get(hook)
        if function is not None:
            function(*arguments)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs)

    def get_config(self):
        raise TypeError("LambdaCallback holds Python functions, which a config cannot store.")
