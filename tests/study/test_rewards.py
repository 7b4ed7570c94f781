"""Role rewards: a milestone reached gives its role once; without the permission to give
roles, the server is told once and nothing else stops."""

from __future__ import annotations

from bot.coach import Coach
from bot.core.posts import Post, RoleGrant
from tests.conftest import make_actor


async def read_all_but_one(coach: Coach, name: str) -> str:
    """Record every concept but the last as read by ``name``; the last one's id."""
    ids = [c.id for c in coach.concepts.ranked("")]
    store = coach.store
    assert store is not None
    for concept in ids[:-1]:
        await store.progress.record_read(make_actor(name, guild="g"), concept)
    return ids[-1]


async def test_a_milestone_gives_its_role_once(scoach: Coach, posts: list[Post]) -> None:
    granted: list[RoleGrant] = []
    allowed = False

    async def granter(grant: RoleGrant) -> bool:
        if allowed:
            granted.append(grant)
        return allowed

    scoach.posts.can_grant(granter)
    manager = make_actor("mod", guild="g", admin=True)
    [configured] = await scoach.run(
        manager, ("admin", "reward"), {"milestone": "all-concepts", "role": "555"}
    )
    assert "read every concept: role 555" in configured.body
    # Without the permission: told once, in the channel; the learner still hears of it.
    for name in ("bob", "carol"):
        last = await read_all_but_one(scoach, name)
        replies = await scoach.run(make_actor(name, guild="g"), ("concept",), {"topic": last})
        assert any("Milestone reached" in r.body for r in replies)
    notices = [p for p in posts if "Manage Roles" in p.reply.body]
    assert len(notices) == 1 and not notices[0].reply.private
    # Allowed now: the next time bob reaches it, the role is given, and only once.
    allowed = True
    for _ in range(2):
        await scoach.run(make_actor("bob", guild="g"), ("concept",), {"topic": last})
    assert [(g.user_id, g.role_id) for g in granted] == [("bob", "555")]
    assert len([p for p in posts if "Manage Roles" in p.reply.body]) == 1


async def test_the_console_has_no_roles_but_celebrates(scoach: Coach) -> None:
    manager = make_actor("mod", guild="g", admin=True)
    await scoach.run(manager, ("admin", "reward"), {"milestone": "all-concepts", "role": "x"})
    last = await read_all_but_one(scoach, "dan")
    replies = await scoach.run(make_actor("dan", guild="g"), ("concept",), {"topic": last})
    assert any("Milestone reached" in r.body for r in replies)
    [refused] = await scoach.run(
        manager, ("admin", "reward"), {"milestone": "first-blood", "role": "x"}
    )
    assert refused.tone.value == "error"
