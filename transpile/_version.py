"""The package's version, in a module of its own: the header of every
generated file prints it (transpile/codegen/module.py), below the package."""
__version__ = "0.1.0"
