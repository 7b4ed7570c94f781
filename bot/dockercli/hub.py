"""What a pull could find: Docker Hub's official images and where other images live.

A reference without a ``/`` (``ubuntu``, ``mysite:v1``) means Docker Hub's ``library/`` namespace,
which holds only Docker's official images. So a one-word name outside that set exists nowhere a
pull reaches: docker answers ``pull access denied for mysite, repository does not exist``. A
name in a namespace (``bitnami/redis``) or on another registry may well exist: nothing here can
tell. The set is Docker Hub's official image repositories (deprecated ones included: they can
still be pulled).
"""

from __future__ import annotations

from bot.dockercli.values import ImageRef

OFFICIAL_IMAGES = frozenset(
    {
        "adminer", "aerospike", "almalinux", "alpine", "alt", "amazoncorretto", "amazonlinux",
        "api-firewall", "arangodb", "archlinux", "backdrop", "bash", "bonita", "buildpack-deps",
        "busybox", "caddy", "cassandra", "celery", "centos", "chronograf", "cirros",
        "clearlinux", "clefos", "clickhouse", "clojure", "composer", "consul", "convertigo",
        "couchbase", "couchdb", "crate", "crux", "dart", "debian", "django", "docker", "drupal",
        "eclipse-mosquitto", "eclipse-temurin", "eggdrop", "elasticsearch", "elixir", "emqx",
        "erlang", "euleros", "express-gateway", "fedora", "flink", "fluentd", "friendica",
        "fsharp", "gazebo", "gcc", "geonetwork", "ghost", "glassfish", "golang", "gradle",
        "groovy", "haproxy", "haskell", "haxe", "hello-world", "hipache", "hitch", "httpd",
        "hylang", "ibm-semeru-runtimes", "ibmjava", "influxdb", "iojs", "irssi", "java",
        "jenkins", "jetty", "jobber", "joomla", "jruby", "julia", "kaazing-gateway",
        "kapacitor", "kibana", "known", "kong", "krakend", "lightstreamer", "liquibase",
        "logstash", "mageia", "mariadb", "matomo", "maven", "mediawiki", "memcached", "mongo",
        "mongo-express", "monica", "mono", "mysql", "nats", "nats-streaming", "neo4j",
        "neurodebian", "nextcloud", "nginx", "node", "notary", "nuxeo", "odoo", "open-liberty",
        "openjdk", "opensuse", "oraclelinux", "orientdb", "owncloud", "percona", "perl",
        "photon", "php", "php-zendserver", "phpmyadmin", "piwik", "plone", "postfixadmin",
        "postgres", "pypy", "python", "r-base", "rabbitmq", "rails", "rakudo-star", "redis",
        "redmine", "registry", "rethinkdb", "rocket.chat", "rockylinux", "ros", "ruby", "rust",
        "sapmachine", "satosa", "sentry", "silverpeas", "sl", "solr", "sonarqube", "sourcemage",
        "spark", "spiped", "storm", "swarm", "swift", "swipl", "teamspeak", "telegraf",
        "thrift", "tomcat", "tomee", "traefik", "ubuntu", "ubuntu-debootstrap",
        "ubuntu-upstart", "unit", "varnish", "vault", "websphere-liberty", "wordpress", "xwiki",
        "yourls", "znc", "zookeeper",
    }
)  # fmt: skip


def could_exist(image: ImageRef) -> bool:
    """Whether a pull of ``image`` might find it: on another registry, in a Docker Hub
    namespace, or as one of Docker Hub's official images. False: it exists nowhere."""
    return (
        image.registry is not None
        or "/" in image.repository
        or (image.repository in OFFICIAL_IMAGES)
    )
