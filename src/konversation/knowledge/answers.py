"""Answering a subscriber's question from the workspace's knowledge base.

The question is embedded, the rows nearest in meaning are found (see `search`), and those above
the wanted score are given to an OpenAI-compatible chat model as the only facts it may answer
from. The answer comes back with the rows it was given, for the message log.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from konversation.errors import KonversationError
from konversation.knowledge.openai import OpenAI
from konversation.knowledge.search import Match, Searcher

INSTRUCTIONS = (
    "You answer questions for a business, using only the facts below. When they do not hold "
    "the answer, say that you do not know. Keep to the language of the question."
)


class NothingKnown(KonversationError):
    """No row of the knowledge base is near enough to the question."""


@dataclass(frozen=True)
class Source:
    id: int
    heading: str
    score: float


@dataclass(frozen=True)
class Answer:
    text: str
    sources: list[Source]


@dataclass(frozen=True)
class Answerer:
    openai: OpenAI
    searcher: Searcher

    async def answer(
        self,
        session: AsyncSession,
        workspace_id: int,
        question: str,
        *,
        top_k: int,
        min_score: float,
        instructions: str | None = None,
    ) -> Answer:
        """The model's answer from the best `top_k` rows scoring `min_score` or more; raises
        `NothingKnown` without such a row, and the client's errors when the service fails."""
        account = await self.openai.required_account(session, workspace_id)
        query = (await self.openai.embed(account, [question]))[0]
        found = await self.searcher.nearest(
            session, workspace_id, self.openai.embedding_model, query, top_k=top_k
        )
        matches = [match for match in found if match.score >= min_score]
        if not matches:
            raise NothingKnown("Nothing in the knowledge base is near enough to the question.")
        system = "\n\n".join(filter(None, (INSTRUCTIONS, instructions, _facts(matches))))
        prompt = [{"role": "system", "content": system}, {"role": "user", "content": question}]
        text = await self.openai.chat(account, prompt)
        sources = [Source(m.row.id, m.row.heading, round(m.score, 4)) for m in matches]
        return Answer(text, sources)


def _facts(matches: list[Match]) -> str:
    return "Facts:\n" + "\n\n".join(f"## {m.row.heading}\n{m.row.text}" for m in matches)
