"""Experimental: does __del__ run?"""
from wit_world.exports import plugin

made = 0
deleted = 0


class Tally(plugin.Tally):
    def __init__(self, start: int) -> None:
        global made
        made += 1
        self.start = start
        self.words_ = []
        self.fail = False

    def __del__(self):
        global deleted
        deleted += 1

    def add(self, text: str) -> int:
        self.words_.extend(text.split())
        return self.total()

    def total(self) -> int:
        return self.start + len(self.words_)

    def words(self):
        return list(self.words_)

    def fail_on_release(self) -> None:
        self.fail = True

    def spin(self, rounds: int) -> int:
        return rounds

    @classmethod
    def unit(cls) -> str:
        return "words"
