"""Replies fit Discord whole: split over embeds and messages, long output as a file, nothing
dropped, every message within Discord's limits."""

from __future__ import annotations

import discord
import pytest

from bot.core.i18n import Translator
from bot.core.reply import Choice, Field, Reply, ReplyFile, TextPrompt
from bot.discordbot import limits
from bot.discordbot.render import BODY_PAGES, HEAD_LINES, Message, Renderer, code_block

FILESIZE = 3000


@pytest.fixture
def renderer(library) -> Renderer:
    return Renderer(Translator(library.catalog, "en"), filesize_limit=FILESIZE)


def assert_fits(messages: list[Message]) -> None:
    """Every message is one Discord accepts."""
    assert messages
    for message in messages:
        assert message.content or message.embeds or message.files
        assert len(message.content or "") <= limits.MESSAGE_CONTENT
        assert len(message.embeds) <= limits.EMBEDS_PER_MESSAGE
        assert sum(len(embed) for embed in message.embeds) <= limits.EMBED_TOTAL
        assert len(message.files) <= limits.FILES_PER_MESSAGE
        assert all(len(f.data) <= FILESIZE for f in message.files)
        for embed in message.embeds:
            assert len(embed.title or "") <= limits.EMBED_TITLE
            assert len(embed.description or "") <= limits.EMBED_DESCRIPTION
            assert len(embed.fields) <= limits.EMBED_FIELDS
            assert all(len(f.name or "") <= limits.EMBED_FIELD_NAME for f in embed.fields)
            assert all(len(f.value or "") <= limits.EMBED_FIELD_VALUE for f in embed.fields)
            assert len(embed.footer.text or "") <= limits.EMBED_FOOTER
        if message.view is not None:
            assert len(message.view.children) <= limits.BUTTONS_PER_MESSAGE
            assert message.view.timeout is None


def embeds_of(messages: list[Message]) -> list[discord.Embed]:
    return [embed for message in messages for embed in message.embeds]


def field_values(messages: list[Message]) -> list[str]:
    """The values of the reply's fields, continuation fields joined to the one they continue."""
    values: list[str] = []
    for embed in embeds_of(messages):
        for item in embed.fields:
            if item.name == "\u200b" and values:
                values[-1] += item.value or ""
            else:
                values.append(item.value or "")
    return values


def test_a_reply_over_every_limit_is_split_over_embeds_and_messages_losing_nothing(renderer):
    body = "b" * 9000  # three embeds' worth
    fields = tuple(Field(f"field {n}", f"{n}" + "v" * 2000) for n in range(30))
    reply = Reply(title="t" * 500, body=body, fields=fields, footer="f" * 3000)
    messages = renderer.render(reply)
    assert_fits(messages)
    assert len(messages) > 1
    embeds = embeds_of(messages)
    assert "".join(e.description or "" for e in embeds) == body
    assert field_values(messages) == [f.value for f in fields]
    assert embeds[0].title.startswith("ttt") and all(e.title is None for e in embeds[1:])
    assert embeds[-1].footer.text.startswith("fff")
    assert all(e.footer.text is None for e in embeds[:-1])


def test_split_body_keeps_every_code_block_closed_and_every_line(renderer):
    lines = [f"line {n:04d} " + "x" * 50 for n in range(150)]
    body = "Intro paragraph.\n```bash\n" + "\n".join(lines) + "\n```\nThe end."
    messages = renderer.render(Reply(body=body))
    assert_fits(messages)
    pages = [e.description or "" for e in embeds_of(messages)]
    assert len(pages) > 1
    for page in pages:
        assert page.count("```") % 2 == 0, page[-80:]
    shown = [line for page in pages for line in page.split("\n")]
    assert [line for line in shown if line.startswith("line ")] == lines
    assert pages[1].startswith("```bash\n")  # the block reopens with its language


def test_a_body_longer_than_a_few_embeds_goes_into_a_file(renderer, library):
    body = "\n".join(f"paragraph {n} " + "w" * 70 for n in range(300))  # ~25,000 characters
    big = Renderer(Translator(library.catalog, "en"), filesize_limit=100_000)
    messages = big.render(Reply(title="long", body=body, code_name="notes.txt"))
    [file] = [f for m in messages for f in m.files]
    assert file.filename == "notes.md" and file.data.decode() == body
    assert len(embeds_of(messages)) <= BODY_PAGES
    assert "notes.md" in (messages[0].content or "")


def test_short_code_is_a_code_block_that_cannot_be_escaped(renderer):
    [message] = renderer.render(Reply(code="a\n```\n@everyone"))
    assert message.content.startswith("```\n") and message.content.endswith("\n```")
    assert message.content.count("```") == 2
    assert message.kwargs()["allowed_mentions"].to_dict()["parse"] == []


def test_long_code_is_a_file_with_its_first_lines_shown(renderer):
    code = "\n".join(f"row {n}" for n in range(300))  # 2,289 characters: fits a file
    [message] = renderer.render(Reply(code=code, code_name="out.txt"))
    assert_fits([message])
    [file] = message.files
    assert file.filename == "out.txt" and file.data.decode() == code
    head, note = message.content.rsplit("\n```\n", 1)
    assert head.startswith("```\nrow 0\nrow 1\n")
    assert head.count("\n") == HEAD_LINES  # the opening fence and the first lines
    assert "out.txt" in note and "300 lines" in note


def test_output_over_the_upload_limit_is_sent_up_to_it_at_a_line_break(renderer):
    code = "\n".join(f"row {n:05d}" for n in range(1000))  # 10,000 bytes, limit 3,000
    [message] = renderer.render(Reply(code=code, code_name="out.txt"))
    assert_fits([message])
    [file] = message.files
    kept = file.data.decode()
    assert code.startswith(kept) and kept.endswith("\n") and len(file.data) <= FILESIZE
    assert f"{len(code)} bytes" in message.content


def test_notes_never_cut_the_output(renderer):
    code = "\n".join(f"line {i:04d} " + "o" * 40 for i in range(39))  # a block that just fits
    assert len(code_block(code)) <= limits.MESSAGE_CONTENT
    reply = Reply(code=code, code_name="out.txt", files=(ReplyFile("big.bin", b"0" * 5000),))
    [message] = renderer.render(reply)
    assert_fits([message])
    assert [f.filename for f in message.files] == ["out.txt"]
    assert message.files[0].data.decode() == code  # whole, in the file
    assert "big.bin" in message.content


def test_files_above_the_limit_are_named_and_the_image_is_shown(renderer):
    reply = Reply(
        body="x",
        files=(ReplyFile("small.txt", b"1"), ReplyFile("big.bin", b"0" * 5000)),
        image=ReplyFile("chart.png", b"png"),
    )
    [message] = renderer.render(reply)
    assert [f.filename for f in message.files] == ["small.txt", "chart.png"]
    assert "big.bin" in message.content
    assert message.embeds[0].image.url == "attachment://chart.png"


def test_more_files_than_a_message_holds_follow_in_more_messages(renderer):
    files = tuple(ReplyFile(f"f{n}.txt", b"x") for n in range(23))
    messages = renderer.render(Reply(body="files", files=files))
    assert_fits(messages)
    assert [f.filename for m in messages for f in m.files] == [f.filename for f in files]


def test_choices_and_prompt_become_persistent_buttons_none_dropped(renderer):
    reply = Reply(
        body="q",
        choices=(
            *(Choice(f"choice {n}", f"quiz:a:1:{n}") for n in range(30)),
            Choice("L" * 120, "quiz:a:1:long", disabled=True),
        ),
        prompt=TextPrompt("quiz:t:1", "Type it"),
    )
    messages = renderer.render(reply)
    assert_fits(messages)
    buttons = [item for m in messages if m.view for item in m.view.children]
    assert all(isinstance(item, discord.ui.DynamicItem) for item in buttons)
    ids = [item.item.custom_id for item in buttons]
    assert ids == [*(f"quiz:a:1:{n}" for n in range(30)), "quiz:a:1:long", "~quiz:t:1"]
    long = buttons[30].item
    assert long.disabled and len(long.label) <= limits.BUTTON_LABEL
    assert not any(b.item.disabled for b in buttons[:30])


def test_empty_reply_still_sends_something(renderer):
    [message] = renderer.render(Reply())
    assert message.content


def test_code_block_helper():
    assert code_block("x") == "```\nx\n```"


@pytest.mark.parametrize("limit", [40, 100, 1024])
def test_split_markdown_pieces_fit_and_lose_no_text(limit):
    text = "a" * 250 + "\n\n```py\n" + "\n".join(f"print({n})" for n in range(40)) + "\n```\nend"
    pieces = limits.split_markdown(text, limit)
    assert all(len(piece) <= limit for piece in pieces)
    assert all(piece.count("```") % 2 == 0 for piece in pieces)
    kept = "".join(pieces).replace("```py", "").replace("```", "").replace("\n", "")
    assert kept == text.replace("```py", "").replace("```", "").replace("\n", "")
