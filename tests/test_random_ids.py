"""Random ids: the operating system's bytes, each handed out once, a forked child never repeating its parent's."""

from __future__ import annotations

import os
import re
import threading

import pytest

from gateway import random_ids


def test_ids_have_the_shape_of_secrets_tokens() -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", random_ids.random_hex(16))
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", random_ids.random_urlsafe(16))


def test_no_bytes_are_handed_out_twice_across_pages() -> None:
    seen = [random_ids.random_bytes(16) for _ in range(3 * random_ids.PAGE // 16)]
    assert len(set(seen)) == len(seen)


def test_a_request_larger_than_a_page_is_served_whole() -> None:
    assert len(random_ids.random_bytes(random_ids.PAGE + 1)) == random_ids.PAGE + 1


def test_threads_take_from_buffers_of_their_own() -> None:
    taken: list[bytes] = []

    def take() -> None:
        taken.extend(random_ids.random_bytes(16) for _ in range(500))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(taken)) == len(taken) == 2000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX-only")
def test_a_forked_child_does_not_repeat_its_parents_next_bytes() -> None:
    random_ids.random_bytes(16)  # the parent's buffer holds bytes not handed out yet
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover  (the child)
        os.write(writing, random_ids.random_bytes(16))
        os._exit(0)
    os.close(writing)
    os.waitpid(child, 0)
    childs = os.read(reading, 16)
    os.close(reading)
    assert random_ids.random_bytes(16) != childs
