"""Helpers to play quiz rounds through the coach, as a front end would."""

from __future__ import annotations

from bot.coach import Coach
from bot.core.context import Actor
from bot.core.reply import Reply
from bot.quiz.content import Question, QuestionType


def asks(reply: Reply) -> bool:
    """Whether ``reply`` asks something: a prompt, or choices that can still be pressed (a
    finished round shows its last question's buttons, disabled)."""
    return reply.prompt is not None or any(not c.disabled for c in reply.choices)


def question_reply(replies: list[Reply]) -> Reply:
    """The reply that asks a question (buttons or a typed prompt)."""
    asking = [r for r in replies if asks(r)]
    assert asking, [r.title for r in replies]
    return asking[-1]


async def current_question(coach: Coach, reply: Reply) -> tuple[int, int, Question, tuple]:
    """Round id, position, question and option order behind a question reply."""
    action = reply.prompt.action if reply.prompt else reply.choices[0].action
    parts = action.split(":")
    round_id, position = int(parts[2]), int(parts[3])
    assert coach.store is not None
    round_ = await coach.store.quiz.round(round_id)
    assert round_ is not None
    slot = round_.questions[position]
    return round_id, position, coach.library.questions[slot.question_id], slot.option_order


async def answer(coach: Coach, actor: Actor, reply: Reply, right: bool) -> list[Reply]:
    """Answer the question in ``reply`` rightly or wrongly."""
    _, _, question, order = await current_question(coach, reply)
    if question.type is QuestionType.COMMAND:
        typed = str(question.answer) if right else "docker ps"
        assert reply.prompt is not None
        return await coach.press(actor, reply.prompt.action, typed)
    if question.type is QuestionType.TRUEFALSE:
        button = question.correct_index if right else 1 - question.correct_index
    else:
        button = next(
            i for i, option in enumerate(order) if (option == question.correct_index) == right
        )
    return await coach.press(actor, reply.choices[button].action)
