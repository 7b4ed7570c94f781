"""CLI-like output: tables laid out like the docker CLI's, human times and sizes, templates."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.dockercli import layout, output
from bot.dockercli.errors import CliError
from bot.dockercli.templates import OBJECT_FORMAT, RowFormat
from bot.dockercli.views import (
    ContainerView,
    ImageView,
    MountView,
    NetworkView,
    PortView,
    SearchResult,
    StatsSample,
    VolumeView,
    stats_sample,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _id(seed: str) -> str:
    return (seed * 64)[:64]


WEB = ContainerView(
    "web", _id("a1b2c3d4e5f6"), "busybox:latest", "running", ("httpd", "-f", "-p", "80"),
    mounts=(MountView("volume", "site", "/www"),), networks=("bridge",),
    ports=(PortView(80, "tcp", "127.0.0.1", 8080),), created_at=NOW - timedelta(minutes=3),
)  # fmt: skip
DB = ContainerView(
    "db", _id("ffeeddccbbaa"), "redis:latest", "exited",
    ("docker-entrypoint.sh", "redis-server"), exit_code=0,
    created_at=NOW - timedelta(hours=1),
)  # fmt: skip
PAUSED = ContainerView(
    "p", _id("0123456789ab"), "nginx", "paused", ("nginx", "-g", "daemon off;"),
    ports=(PortView(80),), created_at=NOW - timedelta(seconds=5),
)  # fmt: skip
NEW = ContainerView(
    "c", _id("9999999999ab"), "alpine", "created", (), created_at=NOW - timedelta(days=3)
)


def test_ps_table_snapshot() -> None:
    assert output.ps_table([WEB, DB, PAUSED, NEW], NOW) == "\n".join(
        [
            "CONTAINER ID   IMAGE            COMMAND                  CREATED             STATUS                         PORTS                    NAMES",  # noqa: E501
            'a1b2c3d4e5f6   busybox:latest   "httpd -f -p 80"         3 minutes ago       Up 3 minutes                   127.0.0.1:8080->80/tcp   web',  # noqa: E501
            'ffeeddccbbaa   redis:latest     "docker-entrypoint.s…"   About an hour ago   Exited (0) About an hour ago                            db',  # noqa: E501
            '0123456789ab   nginx            "nginx -g daemon off;"   5 seconds ago       Up 5 seconds (Paused)          80/tcp                   p',  # noqa: E501
            '9999999999ab   alpine           ""                       3 days ago          Created                                                 c',  # noqa: E501
        ]
    )


def test_ps_columns_line_up_like_tabwriter() -> None:
    lines = output.ps_table([WEB, DB], NOW).splitlines()
    assert lines[0].startswith("CONTAINER ID   IMAGE            COMMAND                  CREATED")
    assert lines[1] == (
        'a1b2c3d4e5f6   busybox:latest   "httpd -f -p 80"         3 minutes ago       '
        "Up 3 minutes                   127.0.0.1:8080->80/tcp   web"
    )
    assert lines[2] == (
        'ffeeddccbbaa   redis:latest     "docker-entrypoint.s…"   About an hour ago   '
        "Exited (0) About an hour ago                            db"
    )


def test_ps_quiet_no_trunc_and_empty() -> None:
    assert output.ps_table([WEB, DB], NOW, quiet=True) == "a1b2c3d4e5f6\nffeeddccbbaa"
    assert output.ps_table([WEB], NOW, quiet=True, no_trunc=True) == WEB.id
    full = output.ps_table([DB], NOW, no_trunc=True)
    assert '"docker-entrypoint.sh redis-server"' in full
    assert DB.id in full
    assert output.ps_table([], NOW).split() == [
        "CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES",
    ]  # fmt: skip


def test_ps_with_a_format_template() -> None:
    assert output.ps_table([WEB, DB], NOW, template="{{.Names}}: {{.Status}}") == (
        "web: Up 3 minutes\ndb: Exited (0) About an hour ago"
    )
    assert output.ps_table([WEB, DB], NOW, template="table {{.Names}}\\t{{.Image}}") == (
        "NAMES     IMAGE\nweb       busybox:latest\ndb        redis:latest"
    )
    fields = output.ps_fields(WEB, NOW)
    assert fields["Mounts"] == "site"
    assert fields["State"] == "running"
    assert fields["CreatedAt"] == "2026-01-01 11:57:00 +0000 UTC"


@pytest.mark.parametrize(
    ("view", "status"),
    [
        (WEB, "Up 3 minutes"),
        (DB, "Exited (0) About an hour ago"),
        (PAUSED, "Up 5 seconds (Paused)"),
        (NEW, "Created"),
        (
            ContainerView("x", "1", "i", "exited", exit_code=137, created_at=NOW),
            "Exited (137) Less than a second ago",
        ),
        (ContainerView("x", "1", "i", "dead"), "Dead"),
        (ContainerView("x", "1", "i", "removing"), "Removal In Progress"),
    ],
)
def test_container_status(view: ContainerView, status: str) -> None:
    assert output.container_status(view, NOW) == status


def test_status_uses_started_and_finished_times() -> None:
    view = ContainerView(
        "x", "1", "i", "exited", exit_code=1, created_at=NOW - timedelta(days=1),
        started_at=NOW - timedelta(hours=5), finished_at=NOW - timedelta(minutes=2),
    )  # fmt: skip
    assert output.container_status(view, NOW) == "Exited (1) 2 minutes ago"
    running = ContainerView(
        "x", "1", "i", "running", created_at=NOW - timedelta(days=1),
        started_at=NOW - timedelta(seconds=30),
    )  # fmt: skip
    assert output.container_status(running, NOW) == "Up 30 seconds"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.5, "Less than a second"),
        (1, "1 second"),
        (59, "59 seconds"),
        (60, "About a minute"),
        (119, "About a minute"),
        (120, "2 minutes"),
        (59 * 60, "59 minutes"),
        (3600, "About an hour"),
        (2 * 3600, "2 hours"),
        (47 * 3600, "47 hours"),
        (3 * 86400, "3 days"),
        (20 * 86400, "2 weeks"),
        (90 * 86400, "3 months"),
        (3 * 365 * 86400, "3 years"),
    ],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert layout.human_duration(seconds) == text


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0B"), (999, "999B"), (7800, "7.8kB"), (4_261_550, "4.26MB"), (187_400_000, "187MB"),
     (1_240_000_000, "1.24GB")],
)  # fmt: skip
def test_human_size(size: int, text: str) -> None:
    assert layout.human_size(size) == text


def test_binary_size_and_ellipsis() -> None:
    assert layout.binary_size(128 * 1024 * 1024) == "128MiB"
    assert layout.binary_size(1_600_000) == "1.526MiB"
    assert layout.ellipsis("abcdef", 4) == "abc…"
    assert layout.ellipsis("abc", 4) == "abc"


def test_ports() -> None:
    ports = (
        PortView(443, "tcp", "127.0.0.1", 8443),
        PortView(80, "tcp", "127.0.0.1", 8080),
        PortView(53, "udp"),
        PortView(80, "tcp", "::1", 8080),
    )
    assert output.format_ports(ports) == (
        "127.0.0.1:8080->80/tcp, 127.0.0.1:8443->443/tcp, [::1]:8080->80/tcp, 53/udp"
    )
    assert output.port_text(WEB) == "80/tcp -> 127.0.0.1:8080"
    assert output.port_text(WEB, "80") == "127.0.0.1:8080"
    assert output.port_text(WEB, "80/tcp") == "127.0.0.1:8080"
    with pytest.raises(CliError) as caught:
        output.port_text(WEB, "81")
    assert caught.value.params == {"port": "81/tcp", "container": "web"}


def test_ports_asked_for_but_not_published_now() -> None:
    """A mapping of a container that is not running is not shown (as Docker shows it)."""
    asked = PortView(80, "tcp", "127.0.0.1", 8080, published=False)
    assert output.format_ports((asked,)) == ""
    assert output.format_ports((asked, PortView(443, published=False))) == "443/tcp"
    assert asked.asked == "8080->80/tcp"
    view = replace(WEB, ports=(asked,))
    assert output.port_text(view) == ""
    with pytest.raises(CliError):
        output.port_text(view, "80")


def test_images_table_snapshot() -> None:
    images = [
        ImageView("busybox", "latest", "sha256:" + "ab" * 32, 4_261_550, NOW - timedelta(days=20)),
        ImageView("nginx", "1.27", "sha256:" + "cd" * 32, 187_400_000, NOW - timedelta(days=400)),
    ]
    assert output.images_table(images, NOW) == "\n".join(
        [
            "REPOSITORY   TAG       IMAGE ID       CREATED         SIZE",
            "busybox      latest    abababababab   2 weeks ago     4.26MB",
            "nginx        1.27      cdcdcdcdcdcd   13 months ago   187MB",
        ]
    )
    assert output.images_table(images, NOW, quiet=True) == "abababababab\ncdcdcdcdcdcd"


def test_volume_and_network_tables() -> None:
    volumes = [VolumeView("data"), VolumeView("cache", labels={"env": "dev"})]
    assert output.volumes_table(volumes) == (
        "DRIVER    VOLUME NAME\nlocal     data\nlocal     cache"
    )
    assert output.volumes_table(volumes[:1], quiet=True) == "data"
    assert output.volumes_table(volumes, template='{{.Name}}: {{.Label "env"}}') == (
        "data: \ncache: dev"
    )
    networks = [NetworkView("bridge", "1234567890abcdef"), NetworkView("backend", "abcdef1234567")]
    assert output.networks_table(networks) == "\n".join(
        [
            "NETWORK ID     NAME      DRIVER    SCOPE",
            "1234567890ab   bridge    bridge    local",
            "abcdef123456   backend   bridge    local",
        ]
    )
    assert output.networks_table(networks, quiet=True) == "1234567890ab\nabcdef123456"


def test_search_table_snapshot() -> None:
    results = [
        SearchResult(
            "nginx", "Official build of Nginx.\nA long description that goes on", 20000, True
        ),
        SearchResult("bitnami/nginx", "Bitnami nginx", 100),
    ]
    assert output.search_table(results) == "\n".join(
        [
            "NAME            DESCRIPTION                                     STARS     OFFICIAL",
            "nginx           Official build of Nginx. A long description …   20000     [OK]",
            "bitnami/nginx   Bitnami nginx                                   100",
        ]
    )
    assert output.search_table(results, template="{{.Name}} {{.StarCount}}") == (
        "nginx 20000\nbitnami/nginx 100"
    )


def test_top_table_uses_wide_columns() -> None:
    text = output.top_table(["UID", "PID", "CMD"], [["root", "1234", "httpd -f -p 80"]])
    assert text.splitlines() == [
        "UID                 PID                 CMD",
        "root                1234                httpd -f -p 80",
    ]


def test_stats() -> None:
    raw = {
        "id": "a1b2c3d4e5f6aaaa",
        "cpu_stats": {"cpu_usage": {"total_usage": 2_000_000}, "system_cpu_usage": 400_000_000,
                      "online_cpus": 2},
        "precpu_stats": {"cpu_usage": {"total_usage": 1_000_000}, "system_cpu_usage": 200_000_000},
        "memory_stats": {"usage": 1_700_000, "limit": 128 * 1024 * 1024,
                         "stats": {"inactive_file": 100_000}},
        "networks": {"eth0": {"rx_bytes": 1200, "tx_bytes": 648}},
        "blkio_stats": {"io_service_bytes_recursive": [{"op": "read", "value": 0},
                                                       {"op": "write", "value": 4096}]},
        "pids_stats": {"current": 2},
    }  # fmt: skip
    sample = stats_sample("web", raw)
    assert sample == StatsSample(
        "a1b2c3d4e5f6aaaa", "web", True, 1.0, 1_600_000, 128 * 1024 * 1024, 1200, 648, 0, 4096, 2
    )
    assert output.stats_table([sample], template="{{.Name}} {{.CPUPerc}}") == "web 1.00%"
    assert output.stats_table(
        [sample], template="table {{.Container}}\t{{.MemPerc}}", named=["w"]
    ) == ("CONTAINER   MEM %\nw           1.19%")
    assert output.stats_table([sample]) == "\n".join(
        [
            "CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O        BLOCK I/O    PIDS",  # noqa: E501
            "a1b2c3d4e5f6   web       1.00%     1.526MiB / 128MiB   1.19%     1.2kB / 648B   0B / 4.1kB   2",  # noqa: E501
        ]
    )
    assert stats_sample("empty", {}).cpu_percent == 0


def test_row_templates() -> None:
    rows = RowFormat({"ID": "CONTAINER ID", "Names": "NAMES", "Image": "IMAGE"}, "table {{.ID}}")
    row = rows.row({"ID": "abc", "Names": "web", "Image": "x"})
    assert rows.render("{{.Names}}\\t{{ .Image }}", [row]) == "web\tx"
    assert rows.render("table {{.ID}}\\t{{.Names | upper}}", [row]) == (
        "CONTAINER ID   NAMES\nabc            WEB"
    )
    assert rows.render("json", [row]) == '{"ID":"abc","Image":"x","Names":"web"}'
    assert rows.render("table", [row]) == "CONTAINER ID\nabc"
    with pytest.raises(CliError) as caught:
        rows.render("{{.Nope}}", [row])
    assert caught.value.key == "cli.template_field"
    assert "can't evaluate field Nope in type *formatter.Context" in caught.value.params["error"]
    for bad in ("{{.Names}", "{{nope}}", "{{range .Names}}", "{{end}}"):
        with pytest.raises(CliError) as caught:
            rows.check(bad)
        assert caught.value.key == "cli.template_error"


def test_ps_labels_and_header_label() -> None:
    labelled = replace(WEB, labels={"com.example.version": "1.0"})
    template = 'table {{.Names}}\\t{{.Label "com.example.version"}}'
    assert output.ps_table([labelled], NOW, template=template) == (
        "NAMES     version\nweb       1.0"
    )


def test_inspect_templates_and_json() -> None:
    data = {"State": {"Status": "running", "Running": True}, "Config": {"Env": ["A=B"]}, "Id": "x"}
    assert OBJECT_FORMAT.render("{{.State.Status}}", data) == "running"
    assert OBJECT_FORMAT.render("{{json .Config.Env}}", data) == '["A=B"]'
    assert OBJECT_FORMAT.render("{{.State}}", data) == "map[Running:true Status:running]"
    assert OBJECT_FORMAT.render("{{.Config.Env}}", data) == "[A=B]"
    assert OBJECT_FORMAT.render("{{json .}}", {"Id": "x"}) == '{"Id":"x"}'
    assert OBJECT_FORMAT.render("json", {"Id": "x"}) == '{"Id":"x"}'
    with pytest.raises(CliError) as caught:
        OBJECT_FORMAT.render("{{.Nope.Deeper}}", data)
    assert caught.value.params["error"] == (
        'template parsing error: template: :1:7: executing "" at <.Nope.Deeper>: '
        'map has no entry for key "Nope"'
    )
    OBJECT_FORMAT.check("{{range .Mounts}}{{.Source}}{{end}}")
    assert output.inspect_json([{"Id": "x"}]) == '[\n    {\n        "Id": "x"\n    }\n]'


def test_table_layout() -> None:
    assert layout.table([]) == ""
    assert layout.table([["A", "B"], ["longer cell", "x"]]) == "A             B\nlonger cell   x"
    assert layout.table([["ONE"]]) == "ONE"
