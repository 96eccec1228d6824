"""One registry for everything a model file names: layers, losses, optimizers, ...

Every family has a base class that derives from ``Serializable`` and names its
family (``class Layer(Serializable, family="layer")``). Each subclass is then
registered under its class name where it is defined, by ``__init_subclass__``,
so adding a class never means editing a table in another file, and a reader's
own layer saves and loads like the built-in ones::

    serialize(Dense(3))          -> {"class_name": "Dense", "config": {"units": 3, ...}}
    deserialize(spec, "layer")   -> Dense(units=3, ...)

A config is always a JSON-serialisable dict of constructor arguments.
"""

_FAMILIES = {}  # family name -> {class name -> class}


class Serializable:
    """Base of the classes that can be written into a model file and read back."""

    #: The family this class belongs to ("layer", "loss", ...), set by its base class.
    family = None

    def __init_subclass__(cls, family=None, **kwargs):
        super().__init_subclass__(**kwargs)
        if family is not None:  # the base class of a new family
            cls.family = family
            _FAMILIES.setdefault(family, {})
        if cls.family is not None:
            _FAMILIES[cls.family][cls.__name__] = cls

    def get_config(self):
        """The constructor arguments that recreate this object (a JSON-serialisable dict)."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Recreate an object from ``get_config()``'s dict."""
        return cls(**config)


def registered(family):
    """The classes registered in ``family``, by class name (a copy)."""
    if family not in _FAMILIES:
        raise ValueError(f"Unknown family {family!r}. "
                         f"Expected one of: {', '.join(sorted(_FAMILIES))}.")
    return dict(_FAMILIES[family])


def serialize(obj):
    """``{"class_name": ..., "config": {...}}``: what a model file stores for ``obj``."""
    if not isinstance(obj, Serializable):
        raise TypeError(f"Expected an nn object that can be saved. Received: {obj!r}")
    config = obj.get_config()
    if not isinstance(config, dict):
        raise TypeError(f"{type(obj).__name__}.get_config() must return a dict. "
                        f"Received: {config!r}")
    return {"class_name": type(obj).__name__, "config": config}


def deserialize(spec, family):
    """The object ``spec`` (from ``serialize``) describes, looked up in ``family``.

    An unknown class name lists the registered ones: a reader's own class must be
    defined (or imported) before the file that names it is loaded.
    """
    classes = registered(family)
    if not isinstance(spec, dict) or "class_name" not in spec:
        raise ValueError(f"A {family} spec is a dict with 'class_name' and 'config'. "
                         f"Received: {spec!r}")
    class_name = spec["class_name"]
    if class_name not in classes:
        raise ValueError(
            f"Unknown {family} class {class_name!r}. Registered: {', '.join(sorted(classes))}. "
            "A class of your own registers itself when it is defined: define or import it first."
        )
    return classes[class_name].from_config(dict(spec.get("config") or {}))


def names(family):
    """The registered classes of ``family`` by every name they answer to.

    A class answers to its class name ('MeanSquaredError'), its ``name`` attribute
    ('mean_squared_error') and its ``aliases`` ('mse'), each defined on the class itself.
    """
    table = {}
    for class_name, cls in registered(family).items():
        table[class_name] = cls
        for name in (cls.__dict__.get("name"), *cls.__dict__.get("aliases", ())):
            if isinstance(name, str):
                table[name] = cls
    return table


def get(identifier, family, base):
    """Resolve ``identifier`` within ``family``: an instance of ``base`` passes through, a
    name gives a fresh instance with default settings, a ``serialize`` dict the object
    it describes. What every ``nn.<family>.get`` does."""
    if isinstance(identifier, base):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier, family)
    if isinstance(identifier, str):
        table = names(family)
        cls = table.get(identifier) or table.get(identifier.lower())
        if cls is None or cls is base:
            valid = sorted(name for name, cls in table.items()
                           if name.islower() and cls is not base)
            raise ValueError(f"Unknown {family} {identifier!r}. "
                             f"Expected one of: {', '.join(map(repr, valid))}.")
        return cls()
    raise TypeError(f"Expected a {family} name, {base.__name__} instance or config dict. "
                    f"Received: {identifier!r}")
