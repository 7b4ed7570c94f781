"""Role rewards for milestones: a server's managers tie a role to a milestone
(``/admin reward all-scenarios @Docker Graduate``); a member who reaches it gets the role once.

Giving a role is the front end's (``Outbox.grant``): on Discord the bot needs Manage Roles.
Without it the server is told once, in the channel where it happened, and everything else
carries on; the milestone is given later, when the permission is there.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core.commands import Request
from bot.core.context import Actor
from bot.core.i18n import Translator
from bot.core.posts import Outbox, Post, RoleGrant
from bot.core.registry import Slot
from bot.core.reply import Reply, Tone
from bot.store import Store
from bot.study.ports import ConceptNames, GroupPracticePort

ALL_SCENARIOS = "all-scenarios"
ALL_CONCEPTS = "all-concepts"
MILESTONES = (ALL_SCENARIOS, ALL_CONCEPTS)


class Rewards:
    def __init__(
        self,
        store: Slot[Store],
        posts: Outbox,
        practice: GroupPracticePort,
        concepts: ConceptNames,
        translator: Callable[[str], Translator],
    ) -> None:
        self._store = store
        self.posts = posts
        self.practice = practice
        self.concepts = concepts
        self.translator = translator

    @property
    def store(self) -> Store:
        return self._store.get()

    async def configure(self, request: Request) -> Reply:
        """``/admin reward MILESTONE [ROLE]``: tie a role to a milestone (no role: untie)."""
        actor, tr = request.actor, request.tr
        milestone = str(request.opt("milestone", ""))
        role = str(request.opt("role", "")).strip() or None
        await self.store.study.set_reward(actor.guild_id, milestone, role)
        chosen = await self.store.study.rewards(actor.guild_id)
        lines = [
            tr("study.reward_line", milestone=tr(f"study.milestone.{m}"), role=chosen[m])
            for m in MILESTONES
            if m in chosen
        ]
        return Reply(
            title=tr("study.rewards_title"),
            body="\n".join(lines) or tr("study.rewards_none"),
            tone=Tone.SUCCESS,
        )

    async def after_command(
        self, request: Request, path: tuple[str, ...], replies: list[Reply]
    ) -> list[Reply]:
        """Listener after ``/practice``, ``/docker``, ``/sh`` and ``/concept``: a milestone
        reached gives its role (once)."""
        actor = request.actor
        rewards = await self.store.study.rewards(actor.guild_id)
        if not rewards:
            return []
        reached: list[str] = []
        finished = any(r.meta.get("practice") == "finished" for r in replies)
        if ALL_SCENARIOS in rewards and finished:
            done = await self.store.study.scenarios_completed_by(actor.user_id, actor.guild_id)
            if set(self.practice.scenario_ids()) <= done:
                reached.append(ALL_SCENARIOS)
        if ALL_CONCEPTS in rewards and path[0] == "concept":
            read = await self.store.study.concepts_read_by(actor.user_id, actor.guild_id)
            if {c.id for c in self.concepts.ranked("")} <= read:
                reached.append(ALL_CONCEPTS)
        answers: list[Reply] = []
        for milestone in reached:
            answers.extend(await self._reward(request.tr, actor, milestone, rewards[milestone]))
        return answers

    async def _reward(
        self, tr: Translator, actor: Actor, milestone: str, role_id: str
    ) -> list[Reply]:
        if not await self.store.study.claim_reward(actor, milestone):
            return []
        name = tr(f"study.milestone.{milestone}")
        given = await self.posts.grant(
            RoleGrant(
                actor.guild_id, actor.user_id, role_id, f"Docker Coach milestone: {milestone}"
            )
        )
        if given is None:  # no front end with roles (the console): nothing to give
            return [Reply(body=tr("study.milestone_reached", milestone=name), tone=Tone.SUCCESS)]
        if given:
            await self.store.study.roles_refused(actor.guild_id, False)
            return [Reply(body=tr("study.reward_given", milestone=name), tone=Tone.SUCCESS)]
        await self.store.study.unclaim_reward(actor, milestone)  # given when allowed again
        if await self.store.study.roles_refused(actor.guild_id, True):
            notice = Reply(body=tr("study.roles_refused"), tone=Tone.WARNING, private=False)
            await self.posts.publish(Post(actor.guild_id, actor.channel_id, notice))
        return [Reply(body=tr("study.milestone_reached", milestone=name), tone=Tone.SUCCESS)]
