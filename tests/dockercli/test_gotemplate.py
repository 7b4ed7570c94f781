"""Go's text/template as the docker CLI uses it: the examples of Docker's reference docs
(``docker inspect``, ``ps``, ``images``, "Format command and log output") and Go's rules."""

from __future__ import annotations

import pytest

from bot.dockercli.gotemplate import (
    HEADER_FUNCTIONS,
    Struct,
    TemplateError,
    go_float,
    go_text,
    parse,
)

CONTAINER = {
    "Id": "f2c5e9b0a1d3",
    "Name": "/web",
    "State": {"Status": "running", "Running": True, "Pid": 12345, "ExitCode": 0},
    "Config": {
        "Image": "nginx",
        "Env": ["PATH=/usr/bin", "MODE=dev"],
        "Cmd": ["httpd", "-f"],
        "Labels": {"com.example.version": "1.0", "maintainer": "ann"},
    },
    "HostConfig": {"Memory": 134217728, "LogConfig": {"Type": "json-file", "Config": {}}},
    "LogPath": "/var/lib/docker/containers/f2c5/f2c5-json.log",
    "NetworkSettings": {
        "Networks": {
            "bridge": {"IPAddress": "172.17.0.2", "MacAddress": "02:42:ac:11:00:02"},
            "backend": {"IPAddress": "172.18.0.3", "MacAddress": "02:42:ac:12:00:03"},
        },
        "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], "443/tcp": None},
    },
    "Mounts": [{"Type": "volume", "Source": "/var/lib/docker/volumes/data", "Destination": "/d"}],
}


def run(template: str, data: object = CONTAINER, **options: object) -> str:
    return parse(template).execute(data, missing_key_error=True, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # docker inspect's reference examples
        ("{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "172.18.0.3172.17.0.2"),
        ("{{range .NetworkSettings.Networks}}{{.MacAddress}} {{end}}",
         "02:42:ac:12:00:03 02:42:ac:11:00:02 "),
        ("{{.LogPath}}", "/var/lib/docker/containers/f2c5/f2c5-json.log"),
        ("{{.Config.Image}}", "nginx"),
        ("{{range $p, $conf := .NetworkSettings.Ports}} {{$p}} -> {{(index $conf 0).HostPort}}"
         " {{end}}", ""),  # 443/tcp has no binding: index of a nil list is an error (below)
        ("{{json .Config}}",
         '{"Image":"nginx","Env":["PATH=/usr/bin","MODE=dev"],"Cmd":["httpd","-f"],'
         '"Labels":{"com.example.version":"1.0","maintainer":"ann"}}'),
        ("{{(index (index .NetworkSettings.Ports \"80/tcp\") 0).HostPort}}", "8080"),
        ('{{index .Config.Labels "com.example.version"}}', "1.0"),
        # "Format command and log output"
        ("{{join .Config.Cmd \", \"}}", "httpd, -f"),
        ("{{len .Config.Env}}", "2"),
        ("{{lower .State.Status}} {{upper .State.Status}} {{title \"hello world\"}}",
         "running RUNNING Hello World"),
        ("{{split .LogPath \"/\"}}", "[ var lib docker containers f2c5 f2c5-json.log]"),
        ("{{range .Config.Env}}{{println .}}{{end}}", "PATH=/usr/bin\nMODE=dev\n"),
        ("{{pad .State.Status 2 3}}|", "  running   |"),
        ("{{truncate .Id 4}}", "f2c5"),
        ("{{.State.Status | upper | printf \"%-9s|\"}}", "RUNNING  |"),
        # Go's control structures, variables and values
        ("{{if .State.Running}}up{{else}}down{{end}}", "up"),
        ("{{if eq .State.ExitCode 1}}a{{else if eq .State.ExitCode 0}}b{{else}}c{{end}}", "b"),
        ("{{with .State}}{{.Pid}}{{end}}", "12345"),
        ("{{with index .Config.Labels \"x\"}}x{{else}}none{{end}}", "none"),
        ("{{$n := len .Config.Env}}{{$n}}", "2"),
        ("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "2"),
        ("{{range $i, $e := .Config.Env}}{{if $i}},{{end}}{{$e}}{{end}}",
         "PATH=/usr/bin,MODE=dev"),
        ("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}",
         "com.example.version=1.0;maintainer=ann;"),
        ("{{range .Config.Env}}{{if eq . \"MODE=dev\"}}{{break}}{{end}}{{.}}{{end}}",
         "PATH=/usr/bin"),
        ("{{range .Config.Env}}{{if eq . \"PATH=/usr/bin\"}}{{continue}}{{end}}{{.}}{{end}}",
         "MODE=dev"),
        ("{{range index .Config.Labels \"x\"}}x{{else}}empty{{end}}", "empty"),
        ("{{range 3}}{{.}}{{end}}", "012"),
        ("{{.HostConfig.Memory}} {{.Config.Labels}} {{.Config.Cmd}}",
         "134217728 map[com.example.version:1.0 maintainer:ann] [httpd -f]"),
        ("{{.NetworkSettings.Ports}}",
         "map[443/tcp:<nil> 80/tcp:[map[HostIp:0.0.0.0 HostPort:8080]]]"),
        ("{{and 1 0 2}} {{or 0 \"\" \"x\"}} {{not .State.Running}}", "0 x false"),
        ("{{slice .Id 1 3}} {{index .Config.Cmd 1}}", "2c -f"),
        ("{{print 1 2 \"a\" \"b\" 3}}", "1 2ab3"),  # spaces only between non-strings
        ("{{printf \"%d-%05.1f-%q-%v-%t-%x\" 7 3.14159 \"hi\" .Config.Cmd true 255}}",
         '7-003.1-"hi"-[httpd -f]-true-ff'),
        ("{{html \"<a>\"}} {{js \"it's\"}} {{urlquery \"a b&c\"}}", "&lt;a&gt; it\\'s a+b%26c"),
        ("{{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1 2}} {{ne 1 2}} {{eq 1 2 3 1}}",
         "true true true false true true"),
        ("{{/* a comment */}}a {{- \" b \" -}} c", "a b c"),
        ("{{`raw\\n`}} {{'a'}} {{0x10}} {{1e3}} {{print nil}}", "raw\\n 97 16 1000 <nil>"),
        ("{{json .Name}} {{json .State.Running}} {{json .HostConfig.LogConfig.Config}}",
         '"/web" true {}'),
        ("{{$.Config.Image}}{{range .Config.Cmd}}{{$.State.Pid}}{{end}}", "nginx1234512345"),
    ],
)  # fmt: skip
def test_docker_examples(template: str, expected: str) -> None:
    if "index $conf 0" in template:
        with pytest.raises(TemplateError) as caught:
            run(template)
        assert "error calling index: index of untyped nil" in caught.value.message
        return
    assert run(template) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{.Nope}}", 'template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"'),
        ("x\n {{.State.Nope}}",
         'template: :2:9: executing "" at <.State.Nope>: map has no entry for key "Nope"'),
        ("{{.Config.Cmd.X}}",
         # a map's value is an interface {} to Go; the chain sits at its first chained field
         'template: :1:9: executing "" at <.Config.Cmd.X>: can\'t evaluate field X in type '
         "interface {}"),
        ("{{index .Config.Cmd 5}}",
         'template: :1:2: executing "" at <index .Config.Cmd 5>: error calling index: '
         "index out of range: 5"),
        ("{{len .State.Pid}}",
         'template: :1:2: executing "" at <len .State.Pid>: error calling len: len of type int'),
        ("{{join .Config.Labels \",\"}}",
         # an argument of the wrong type is refused at the argument, before the call
         'template: :1:14: executing "" at <.Config.Labels>: wrong type for value; expected '
         "[]string; got map[string]interface {}"),
        ("{{nil | print}}", 'template: :1:2: executing "" at <nil>: nil is not a command'),
        # each message below is what Go 1.19's text/template prints for the same template
        ("{{.Name.X.Y}}",
         'template: :1:7: executing "" at <.Name.X.Y>: can\'t evaluate field X in type '
         "interface {}"),
        ("{{.State.Nope.X}}",
         'template: :1:8: executing "" at <.State.Nope.X>: map has no entry for key "Nope"'),
        ("{{upper .State.Pid}}",
         'template: :1:14: executing "" at <.State.Pid>: wrong type for value; expected '
         "string; got int"),
        ("{{.State.Pid | upper}}",
         'template: :1:15: executing "" at <upper>: wrong type for value; expected string; '
         "got int"),
        ('{{pad .Name "2" 1}}',
         'template: :1:12: executing "" at <"2">: expected integer; found "2"'),
        ("{{upper nil}}",
         'template: :1:8: executing "" at <nil>: cannot assign nil to string'),
        ('{{join "a" ","}}',
         'template: :1:7: executing "" at <"a">: can\'t handle "a" for arg of type []string'),
        ("{{slice .Name 3 1}}",
         'template: :1:2: executing "" at <slice .Name 3 1>: error calling slice: invalid '
         "slice index: 3 > 1"),
        ("{{slice .Name 1 2 3}}",
         'template: :1:2: executing "" at <slice .Name 1 2 3>: error calling slice: cannot '
         "3-index slice a string"),
        ("{{eq .State.Pid \"x\"}}",
         'template: :1:2: executing "" at <eq .State.Pid "x">: error calling eq: incompatible '
         "types for comparison"),
        ("{{upper}}",
         'template: :1:2: executing "" at <upper>: wrong number of args for upper: want 1 got 0'),
        ('{{"a" "b"}}',
         'template: :1:2: executing "" at <"a">: can\'t give argument to non-function "a"'),
    ],
)  # fmt: skip
def test_execution_errors_read_like_go(template: str, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        run(template)
    assert caught.value.message == message
    assert not caught.value.parsing


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{.Name", "template: :1: unclosed action"),
        ("{{.Name}", "template: :1: bad character U+007D '}'"),  # a field ends at a terminator
        ("{{foo .Name}}", 'template: :1: function "foo" not defined'),
        ("{{if .Name}}x", "template: :1: unexpected EOF"),
        ("{{end}}", "template: :1: unexpected {{end}}"),
        ("{{else}}", "template: :1: unexpected {{else}}"),
        ("{{}}", "template: :1: missing value for command"),
        ("{{.Name | }}", "template: :1: missing value for command"),
        ("{{$x}}", 'template: :1: undefined variable "$x"'),
        ("{{break}}", "template: :1: {{break}} outside {{range}}"),
        ('{{template "x"}}', "template: :1: {{template}} is not supported in --format"),
        ("a\n{{/* open", "template: :2: unclosed comment"),
        ('{{"open}}', "template: :1: unterminated quoted string"),
    ],
)
def test_parse_errors_read_like_go(template: str, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        parse(template)
    assert caught.value.message == message
    assert caught.value.parsing


def test_default_missing_key_prints_no_value() -> None:
    assert parse('{{.Nope}}|{{index .Config.Labels "x"}}').execute(CONTAINER) == (
        "<no value>|<no value>"
    )


def test_structs_fields_methods_and_headers() -> None:
    row = Struct(
        "*formatter.ContainerContext",
        {"ID": "abc", "Names": "web", "Lazy": lambda: "computed"},
        {"Label": lambda name: {"tier": "front"}.get(name, "")},
    )
    assert parse('{{.ID}} {{.Names}} {{.Lazy}} {{.Label "tier"}}').execute(row) == (
        "abc web computed front"
    )
    assert parse("{{json .}}").execute(row) == '{"ID":"abc","Lazy":"computed","Names":"web"}'
    with pytest.raises(TemplateError) as caught:
        parse("{{.Nope}}").execute(row)
    assert caught.value.message.endswith(
        "can't evaluate field Nope in type *formatter.ContainerContext"
    )
    header = Struct("header", {"ID": "CONTAINER ID", "Names": "NAMES"})
    text = parse("{{.ID | lower}} {{json .Names}} {{truncate .Names 2}}").execute(
        header, HEADER_FUNCTIONS
    )
    assert text == "CONTAINER ID NAMES NAMES"


def test_bounded_output() -> None:
    with pytest.raises(TemplateError) as caught:
        parse("{{range 100000}}{{range 100}}x{{end}}{{end}}").execute({})
    assert "too long" in caught.value.message or "too long" in str(caught.value)


def test_values_print_like_go() -> None:
    assert go_text(None) == "<nil>"
    assert go_text([1, "a", True]) == "[1 a true]"
    assert go_text({"b": 1, "a": [2]}) == "map[a:[2] b:1]"
    assert go_text(2.5) == "2.5"
    assert go_text(3.0) == "3"
    assert go_float(1e-7) == "1e-07"
    assert go_float(123456.5) == "123456.5"
