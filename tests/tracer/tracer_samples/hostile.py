"""Objects that record or refuse every attempt to run their code."""

CALLS = []


class Meta(type):
    """Records every attribute read on its classes (`Cls.__qualname__` included)."""

    def __getattribute__(cls, name):
        CALLS.append(f"metaclass __getattribute__ {name}")
        return super().__getattribute__(name)


class Hostile:
    """Every dunder a renderer might call records the call and raises."""

    def __init__(self):
        self.a = 1
        self.b = [1, 2]

    def __repr__(self):
        CALLS.append("__repr__")
        raise RuntimeError("repr called")

    def __str__(self):
        CALLS.append("__str__")
        raise RuntimeError("str called")

    def __eq__(self, other):
        CALLS.append("__eq__")
        raise RuntimeError("eq called")

    def __hash__(self):
        CALLS.append("__hash__")
        raise RuntimeError("hash called")

    def __len__(self):
        CALLS.append("__len__")
        raise RuntimeError("len called")

    def __bool__(self):
        CALLS.append("__bool__")
        raise RuntimeError("bool called")

    def __iter__(self):
        CALLS.append("__iter__")
        raise RuntimeError("iter called")

    def __getattr__(self, name):
        CALLS.append(f"__getattr__ {name}")
        raise AttributeError(name)

    @property
    def computed(self):
        CALLS.append("property")
        raise RuntimeError("property called")


class GetattributeTrap:
    def __init__(self):
        self.x = 5

    def __getattribute__(self, name):
        CALLS.append(f"__getattribute__ {name}")
        raise RuntimeError("getattribute called")


class DictProperty:
    """A class whose `__dict__` is a property: reading it would run user code."""

    @property
    def __dict__(self):
        CALLS.append("__dict__ property")
        return {"leak": 1}


class Slotted:
    __slots__ = ("x", "__y", "unset")

    def __init__(self):
        self.x = 1
        self.__y = 2


class WithMeta(metaclass=Meta):
    def __init__(self):
        self.v = 3


class ListSubclass(list):
    def __repr__(self):
        CALLS.append("ListSubclass __repr__")
        return "nope"


class ErrorWithStr(Exception):
    def __str__(self):
        CALLS.append("ErrorWithStr __str__")
        return "nope"


def use_hostile():
    h = Hostile()
    t = GetattributeTrap()
    d = DictProperty()
    s = Slotted()
    m = WithMeta()
    l = ListSubclass([1, 2])
    h.b.append(3)
    return h
