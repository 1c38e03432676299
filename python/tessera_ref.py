"""The reference implementation's historical module name: `import tessera_ref` gives the very
module `tessera._reference` (the pure-Python backend's core), for scripts written against
spec/reference/python before it moved into the package. Not installed with the package."""

import sys

from tessera import _reference

sys.modules[__name__] = _reference
