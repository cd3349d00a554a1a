"""What the model sees for one turn: the resolved prompt, retrieved context, and a window of history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Turn:
    role: str  # "user" | "assistant"
    content: str


def history_window(previous: Sequence[Turn], window_size: int) -> list[Turn]:
    """The last `window_size` messages before the current one (0 keeps none), oldest first."""
    if window_size <= 0:
        return []
    return list(previous[-window_size:])


def build_chat(
    system_prompt: str, snippets: Sequence[str], previous: Sequence[Turn], user_message: str, window_size: int
) -> list[dict[str, str]]:
    """Messages for ollama.chat: the master's rules first, then context, history, and the new message."""
    system = system_prompt
    if snippets:
        context = "\n".join(f"- {s.strip()}" for s in snippets if s.strip())
        system = f"{system_prompt}\n\nContexte (base de connaissances) :\n{context}"
    messages = [{"role": "system", "content": system}]
    messages += [{"role": t.role, "content": t.content} for t in history_window(previous, window_size)]
    messages.append({"role": "user", "content": user_message})
    return messages
