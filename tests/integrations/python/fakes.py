"""A chat model that answers locally and counts how often it was really called.

Cache libraries such as LangChain's log Redis errors instead of raising them, so a broken cache
looks like a slow one. Counting model calls is what tells a cache hit from a silent miss.
"""

from typing import Any, List, Optional

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr


class CountingChatModel(BaseChatModel):
    """Answers `answer #N: <last message>`; `calls` counts real (uncached) generations."""

    # Private so that the counter is not part of the model's parameters, which LangChain folds
    # into the cache key: a key that changed with every call would never hit.
    _calls: int = PrivateAttr(default=0)

    @property
    def calls(self) -> int:
        return self._calls

    @property
    def _llm_type(self) -> str:
        return "counting-fake-chat"

    def _answer(self, messages: List[BaseMessage]) -> ChatResult:
        self._calls += 1
        text = f"answer #{self._calls}: {messages[-1].content}"
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _generate(
        self,
        messages: List[BaseMessage],
        stop: Optional[List[str]] = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._answer(messages)

    async def _agenerate(
        self,
        messages: List[BaseMessage],
        stop: Optional[List[str]] = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._answer(messages)
