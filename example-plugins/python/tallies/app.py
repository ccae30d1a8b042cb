import gc
from wit_world import exports
import plugin
from plugin import Tally


class Plugin(exports.Plugin):
    def open(self) -> Tally:
        return Tally(0)

    def sum(self, a, b) -> int:
        return a.total() + b.total()

    def absorb(self, into, from_) -> int:
        into.words_.extend(from_.words_)
        return into.total()

    def live(self) -> int:
        gc.collect()
        return plugin.made * 1000 + plugin.deleted

    def crash(self) -> None:
        raise RuntimeError("asked to crash")
