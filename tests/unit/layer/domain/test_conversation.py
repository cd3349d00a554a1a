"""What the model sees: master rules first, retrieved context, a bounded history window, then the new message."""

from __future__ import annotations

import pytest

from aimanager.domain.conversation import Turn, build_chat, history_window

HISTORY = [Turn("user", f"q{i}") if i % 2 == 0 else Turn("assistant", f"a{i}") for i in range(10)]


@pytest.mark.parametrize(("size", "count"), [(0, 0), (1, 1), (4, 4), (10, 10), (50, 10), (-1, 0)])
def test_history_window_keeps_the_most_recent(size: int, count: int) -> None:
    window = history_window(HISTORY, size)
    assert len(window) == count
    if count:
        assert window[-1] == HISTORY[-1]


def test_build_chat_orders_system_context_history_then_user() -> None:
    chat = build_chat("RULES", ["Carrelage : 40 €/m2"], HISTORY, "Et la peinture ?", 2)
    assert chat[0]["role"] == "system" and chat[0]["content"].startswith("RULES")
    assert "Carrelage : 40 €/m2" in chat[0]["content"]
    assert [m["content"] for m in chat[1:]] == ["q8", "a9", "Et la peinture ?"]
    # Without snippets the system prompt is the master's, unchanged
    assert build_chat("RULES", [], [], "x", 5)[0] == {"role": "system", "content": "RULES"}
