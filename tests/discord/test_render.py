"""Replies fit Discord: embeds, code blocks, files and buttons within the limits."""

from __future__ import annotations

import discord
import pytest

from bot.core import limits
from bot.core.i18n import Translator
from bot.core.reply import Choice, Field, Reply, ReplyFile, TextPrompt
from bot.discordbot.render import Renderer, code_block


@pytest.fixture
def renderer(library) -> Renderer:
    return Renderer(Translator(library.catalog, "en"), filesize_limit=3000)


def test_everything_is_cut_to_the_embed_limits(renderer):
    reply = Reply(
        title="t" * 500,
        body="b" * 5000,
        fields=tuple(Field("n" * 300, "v" * 2000) for _ in range(30)),
        footer="f" * 3000,
    )
    message = renderer.render(reply)
    [embed] = message.embeds
    assert len(embed.title) <= limits.EMBED_TITLE
    assert len(embed.description) <= limits.EMBED_DESCRIPTION
    assert len(embed.fields) <= limits.EMBED_FIELDS
    assert all(len(f.value) <= limits.EMBED_FIELD_VALUE for f in embed.fields)
    assert len(embed) <= limits.EMBED_TOTAL


def test_short_code_is_a_code_block_that_cannot_be_escaped(renderer):
    message = renderer.render(Reply(code="a\n```\n@everyone"))
    assert message.content.startswith("```\n") and message.content.endswith("\n```")
    assert message.content.count("```") == 2
    assert message.kwargs()["allowed_mentions"].to_dict()["parse"] == []


def test_long_code_becomes_a_file_and_huge_code_is_cut(renderer):
    long = renderer.render(Reply(code="x" * 900 + "\n" + "y" * 1500, code_name="out.txt"))
    assert [f.filename for f in long.files] == ["out.txt"] and "out.txt" in long.content
    huge = renderer.render(Reply(code="z\n" * 5000))
    assert not huge.files and len(huge.content) <= limits.MESSAGE_CONTENT
    assert "cut" in huge.content


def test_notes_about_files_never_break_the_code_block(renderer):
    code = "\n".join(f"line {i:04d} " + "o" * 40 for i in range(39))  # a block that just fits
    assert len(code_block(code)) <= limits.MESSAGE_CONTENT
    message = renderer.render(Reply(code=code, files=(ReplyFile("big.bin", b"0" * 5000),)))
    assert len(message.content) <= limits.MESSAGE_CONTENT
    block, note = message.content.rsplit("\n", 1)
    assert block.startswith("```\nline 0000") and block.endswith("\n```")
    assert "cut" in block and "big.bin" in note


def test_files_above_the_limit_are_not_sent_but_named(renderer):
    reply = Reply(
        body="x",
        files=(ReplyFile("small.txt", b"1"), ReplyFile("big.bin", b"0" * 5000)),
        image=ReplyFile("chart.png", b"png"),
    )
    message = renderer.render(reply)
    assert [f.filename for f in message.files] == ["small.txt", "chart.png"]
    assert "big.bin" in message.content
    assert message.embeds[0].image.url == "attachment://chart.png"


def test_choices_and_prompt_become_persistent_buttons(renderer):
    reply = Reply(
        body="q",
        choices=tuple(Choice(f"choice {n}", f"quiz:a:1:{n}") for n in range(30)),
        prompt=TextPrompt("quiz:t:1", "Type it"),
    )
    view = renderer.render(reply).view
    assert view is not None and view.timeout is None
    ids = [item.custom_id for item in view.children]
    assert len(ids) == 25 and ids[0] == "quiz:a:1:0"
    assert all(isinstance(item, discord.ui.DynamicItem) for item in view.children)


def test_empty_reply_still_sends_something(renderer):
    assert renderer.render(Reply()).content


def test_code_block_helper():
    assert code_block("x") == "```\nx\n```"
