"""The `otpgate` command: thin calls into the runtime and the services."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from otpgate.config import (
    CONFIG_FILE_VARIABLE,
    ConfigError,
    Settings,
    load_settings,
    require_receipt_credentials,
)
from otpgate.domain.errors import OtpgateError
from otpgate.domain.lookups import LookupAnswer, LookupSource
from otpgate.domain.message_text import preview_message
from otpgate.domain.phone import PhoneNumber, lookup_number, normalize_country, parse_number
from otpgate.logs import configure_logging
from otpgate.runtime import (
    DEFAULT_APP_NAME,
    Runtime,
    bootstrap_default_app,
    build_runtime,
    migrate,
)
from otpgate.server import connection_limits, create_app
from otpgate.service.ports import App
from otpgate.service.presentation import (
    check_document,
    lookup_document,
    timestamp,
    verification_document,
)
from otpgate.service.verifications import StartRequest
from otpgate.serving import DEFAULT_SERVER, Listen, Server, serve_app, serve_processes

cli = typer.Typer(
    help="otpgate: phone verification by SMS one-time codes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
apps_cli = typer.Typer(help="Apps (integrations).", no_args_is_help=True)
keys_cli = typer.Typer(help="API keys.", no_args_is_help=True)
cli.add_typer(apps_cli, name="apps")
cli.add_typer(keys_cli, name="keys")

ConfigOption = Annotated[Path | None, typer.Option("--config", help="TOML file of settings")]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output")]
AppOption = Annotated[str, typer.Option("--app", help="app name")]


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"otpgate: {message}", err=True)
    raise typer.Exit(code)


def settings_from(config: Path | None, *, starting: bool = False) -> Settings:
    """The settings; `starting` (serve, worker): also those a running service needs."""
    try:
        settings = load_settings(config)
        if starting:
            require_receipt_credentials(settings)
    except ConfigError as exc:
        fail(str(exc), 2)
    if config is not None:  # worker processes of `serve --workers N` read the same file
        os.environ[CONFIG_FILE_VARIABLE] = str(config)
    return settings


@contextmanager
def opened(
    config: Path | None, *, quiet_logs: bool = True, starting: bool = False
) -> Iterator[Runtime]:
    """A migrated runtime for one command; domain refusals become one line on stderr."""
    settings = settings_from(config, starting=starting)
    configure_logging("warning" if quiet_logs else settings.log_level, settings.log_format)
    try:
        runtime = build_runtime(settings)
    except (ConfigError, OtpgateError) as exc:
        fail(str(exc), 2)
    try:
        migrate(runtime)
        yield runtime
    except OtpgateError as exc:
        fail(f"{exc.code}: {exc.detail}")
    finally:
        runtime.close()


def emit(as_json: bool, data: Any, text: str | Callable[[], str]) -> None:
    if as_json:
        typer.echo(json.dumps(data))
    else:
        typer.echo(text() if callable(text) else text)


@cli.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8080,
    workers: Annotated[int, typer.Option(min=1, help="server processes")] = 1,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="do not deliver messages")] = False,
    server: Annotated[
        Server,
        typer.Option(help="the HTTP server: uvicorn (every connection limit) or granian"),
    ] = DEFAULT_SERVER,
    as_json: JsonOption = False,
) -> None:
    """Run the API server (and message delivery, unless --no-worker)."""
    with opened(config, starting=True) as runtime:
        first_key = bootstrap_default_app(runtime)
        _announce(runtime, first_key, as_json)
    settings = settings_from(config)
    configure_logging(settings.log_level, settings.log_format)
    _warn_if_exposed(host, settings)
    listen = Listen(server, host, port, settings.log_level, connection_limits(settings))
    if workers > 1:
        os.environ["OTPGATE_SERVE_DELIVERS"] = "0" if no_worker else "1"
        serve_processes(listen, workers)
        return
    try:
        runtime = build_runtime(settings)
    except ConfigError as exc:
        fail(str(exc), 2)
    serve_app(create_app(runtime, deliver=not no_worker), listen)


def _warn_if_exposed(host: str, settings: Settings) -> None:
    """Defaults meant for one developer's machine, said loudly when others can reach them."""
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = host == "localhost"
    if local:
        return
    if "outbox" in settings.providers:
        typer.echo(
            f"otpgate: WARNING: serving on {host} with the developer outbox: codes are not "
            "sent, and any app key reads them at /v1/dev/outbox; set OTPGATE_SMS_PROVIDER",
            err=True,
        )
    if settings.operations_token is None:
        typer.echo(
            f"otpgate: WARNING: serving on {host}: /metrics and /docs are open to anyone who "
            "reaches it; set OTPGATE_OPERATIONS_TOKEN",
            err=True,
        )


def _announce(runtime: Runtime, first_key: Any, as_json: bool) -> None:
    """Print the secrets a person needs, once: on the start that created them."""
    token = runtime.secrets.admin_token if runtime.secrets.admin_token_generated else None
    if first_key is None and token is None:
        return
    data = {
        "app": DEFAULT_APP_NAME,
        "api_key": first_key.api_key if first_key else None,
        "admin_token": token,
    }
    lines = ["otpgate: first start; these are shown once, keep them:"]
    if first_key is not None:
        lines.append(f"  API key of app '{DEFAULT_APP_NAME}':  {first_key.api_key}")
    if token is not None:
        lines.append(f"  admin token:                 {token}")
    emit(as_json, data, "\n".join(lines))


@cli.command()
def worker(config: ConfigOption = None) -> None:
    """Deliver queued messages (without serving the API)."""
    with opened(config, quiet_logs=False, starting=True) as runtime:
        stop = asyncio.Event()

        async def run() -> None:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            await runtime.worker.run(stop)

        asyncio.run(run())


@cli.command(name="migrate")
def migrate_command(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Bring the database schema up to date."""
    with opened(config):
        emit(as_json, {"migrated": True}, "otpgate: schema is up to date")


@apps_cli.command("create")
def apps_create(
    name: str,
    config: ConfigOption = None,
    as_json: JsonOption = False,
    settings: Annotated[str, typer.Option(help="settings as a JSON object")] = "{}",
) -> None:
    """Create an app."""
    try:
        changes = json.loads(settings)
    except json.JSONDecodeError as exc:
        fail(f"--settings is not JSON: {exc}", 2)
    with opened(config) as runtime:
        app = runtime.apps.create_app(name, changes)
        emit(
            as_json,
            {"id": app.id, "name": app.name, "settings": app.settings.to_mapping()},
            f"{app.id}  {app.name}",
        )


@apps_cli.command("list")
def apps_list(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """List apps."""
    with opened(config) as runtime:
        found = runtime.apps.list_apps()
        emit(
            as_json,
            {"apps": [{"id": app.id, "name": app.name} for app in found]},
            lambda: "\n".join(f"{app.id}  {app.name}" for app in found),
        )


@keys_cli.command("create")
def keys_create(app: str, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Create an API key for APP (name or id); the secret is shown once."""
    with opened(config) as runtime:
        owner = (
            runtime.apps.find_app_by_name(app)
            if not app.startswith("app_")
            else runtime.apps.get_app(app)
        )
        key = runtime.apps.create_key(owner.id)
        emit(
            as_json,
            {"key_id": key.key_id, "secret": key.secret, "api_key": key.api_key},
            key.api_key,
        )


@keys_cli.command("revoke")
def keys_revoke(key_id: str, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Revoke a key at once."""
    with opened(config) as runtime:
        runtime.apps.revoke_key(None, key_id)
        emit(as_json, {"revoked": key_id}, f"revoked {key_id}")


@cli.command()
def send(
    number: str,
    config: ConfigOption = None,
    as_json: JsonOption = False,
    app: AppOption = DEFAULT_APP_NAME,
    country: Annotated[str | None, typer.Option(help="for a national number")] = None,
) -> None:
    """Start a verification: send a code to NUMBER."""
    with opened(config) as runtime:
        owner = runtime.apps.find_app_by_name(app)
        region = normalize_country(country) if country else None
        request = StartRequest(to=number, country=region)
        lookup = asyncio.run(_start_lookup(runtime, owner, request))
        result = runtime.verifications.start(owner, request, lookup=lookup)
        # deliver now, so `otpgate outbox` shows it even when no server is running
        asyncio.run(runtime.worker.deliver_due())
        out = verification_document(result.verification)
        emit(as_json, out, f"{out['id']}  {out['status']}  to {out['to']}")


@cli.command()
def check(
    verification_id: str,
    code: str,
    config: ConfigOption = None,
    as_json: JsonOption = False,
    app: AppOption = DEFAULT_APP_NAME,
) -> None:
    """Check CODE against a verification."""
    with opened(config) as runtime:
        owner = runtime.apps.find_app_by_name(app)
        out = check_document(runtime.verifications.check(owner, verification_id, code))
        emit(
            as_json,
            out,
            f"{out['status']}  valid={str(out['valid']).lower()}  "
            f"attempts_left={out['attempts_left']}",
        )
        if not out["valid"]:
            raise typer.Exit(1)


@cli.command()
def outbox(
    config: ConfigOption = None,
    as_json: JsonOption = False,
    follow: Annotated[bool, typer.Option("--follow", help="keep printing new messages")] = False,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
) -> None:
    """Read the developer outbox (all apps), newest last."""
    with opened(config) as runtime:
        if runtime.outbox is None:
            fail("the developer outbox exists only with the outbox SMS provider")
        seen: set[str] = set()
        while True:
            for message in reversed(runtime.outbox.read(None, None, limit)):
                if message.id in seen:
                    continue
                seen.add(message.id)
                data = {
                    "id": message.id,
                    "to": message.to,
                    "sender": message.sender,
                    "body": message.body,
                    "verification_id": message.verification_id,
                    "created_at": timestamp(message.created_at),
                }
                emit(as_json, data, f"{data['created_at']}  {message.to}  {message.body}")
            if not follow:
                return
            sys.stdout.flush()
            time.sleep(0.5)


@cli.command()
def lookup(
    number: str,
    as_json: JsonOption = False,
    country: Annotated[str | None, typer.Option()] = None,
    network: Annotated[
        bool, typer.Option("--network", help="ask the lookup provider (OTPGATE_LOOKUP_PROVIDER)")
    ] = False,
    config: ConfigOption = None,
    app: AppOption = DEFAULT_APP_NAME,
) -> None:
    """Parse NUMBER: validity, country and line type; with --network, what the lookup provider
    says (counted against the app's lookups_per_day). Sends nothing."""
    try:
        found = lookup_number(
            number, normalize_country(country) if country else None, field="number"
        )
    except OtpgateError as exc:
        fail(f"{exc.code}: {exc.detail}")
    if not network:
        plan_only = LookupAnswer(found, LookupSource.NUMBERING_PLAN, None)
        out = lookup_document(plan_only, datetime.now(UTC))
    else:
        with opened(config) as runtime:
            owner = runtime.apps.find_app_by_name(app)
            answer = asyncio.run(_network_lookup(runtime, owner, found))
            out = lookup_document(answer, runtime.clock.now())
    reachable = "" if out["reachable"] is None else f"  reachable={str(out['reachable']).lower()}"
    emit(
        as_json,
        out,
        f"{out['number']}  valid={str(out['valid']).lower()}  "
        f"{out['country']}  {out['line_type']}  {out['national_format']}  "
        f"source={out['source']}{reachable}",
    )


@cli.command()
def preview(
    number: str,
    config: ConfigOption = None,
    as_json: JsonOption = False,
    app: AppOption = DEFAULT_APP_NAME,
    country: Annotated[str | None, typer.Option(help="for a national number")] = None,
    locale: Annotated[str | None, typer.Option(help="a BCP 47 tag such as fr or pt-BR")] = None,
    template: Annotated[str | None, typer.Option(help="a template instead of the app's")] = None,
) -> None:
    """Show the message the app would send to NUMBER, with the sample code 123456."""
    with opened(config) as runtime:
        owner = runtime.apps.find_app_by_name(app)
        number_found = parse_number(number, normalize_country(country) if country else None)
        shown = preview_message(
            owner.settings,
            owner.name,
            country=number_found.country,
            locale=locale,
            template=template,
        )
        out = {
            "locale": shown.locale,
            "body": shown.body,
            "encoding": shown.size.encoding.value,
            "segments": shown.size.segments,
        }
        emit(
            as_json,
            out,
            f"{out['locale']}  {out['encoding']}  {out['segments']} segment(s)\n{out['body']}",
        )


async def _start_lookup(runtime: Runtime, app: App, request: StartRequest) -> LookupAnswer | None:
    try:
        return await runtime.lookups.for_start(app, request)
    finally:
        await runtime.aclose()


async def _network_lookup(runtime: Runtime, app: App, number: PhoneNumber) -> LookupAnswer:
    try:
        return await runtime.lookups.look_up(app, number, force=True)
    finally:
        await runtime.aclose()


def main() -> None:
    cli()
