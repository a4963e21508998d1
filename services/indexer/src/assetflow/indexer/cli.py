"""``assetflow``: the operator's command line (backfill from the bucket, reconcile counters)."""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from assetflow.contracts.errors import ConfigError
from assetflow.domain.tokens import AuthSettings, mint, parse_ttl
from assetflow.indexer import backfill as bf
from assetflow.indexer.reconcile import dataset_ids, reconcile_dataset
from assetflow.indexer.settings import IndexerSettings
from assetflow.platform.kafka import make_kafka_broker
from assetflow.platform.producer import BrokerProducer, publish_asset_events
from assetflow.readmodel.mongo import make_mongo_client
from assetflow.storage.clients import make_s3_session, s3_client_kwargs

app = typer.Typer(
    help="The operator's command line: backfill from the bucket, reconcile counters.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()


@asynccontextmanager
async def _database(settings: IndexerSettings) -> AsyncIterator[Any]:
    client = make_mongo_client(settings.mongo)
    try:
        yield client[settings.mongo.db]
    finally:
        await client.close()


@app.command()
def reconcile(
    dataset: Annotated[list[str] | None, typer.Option(help="only these datasets")] = None,
    repair: Annotated[bool, typer.Option(help="set drifted counters to the truth")] = False,
) -> None:
    """Recount every dataset's counters from its images and report (or repair) drift."""
    raise typer.Exit(asyncio.run(_reconcile(dataset or [], repair)))


async def _reconcile(only: list[str], repair: bool) -> int:
    async with _database(IndexerSettings()) as db:
        ids = only or await dataset_ids(db)
        drifted = 0
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("recounting", total=len(ids))
            for dataset_id in ids:
                if drift := await reconcile_dataset(db, dataset_id, repair=repair):
                    drifted += 1
                    console.print(f"{dataset_id}: {'repaired' if repair else 'drift'} {drift}")
                progress.advance(task)
    console.print(
        f"{len(ids)} dataset(s) recounted, {drifted} with drift"
        + (" (repaired)" if repair and drifted else "")
    )
    return 1 if drifted and not repair else 0


@app.command()
def backfill(
    bucket: Annotated[str | None, typer.Option(help="default: S3_BUCKET")] = None,
    prefix: Annotated[str, typer.Option(help="only keys under it, e.g. <dataset_id>/")] = "",
    dry_run: Annotated[bool, typer.Option(help="report differences, publish nothing")] = False,
    resume: Annotated[bool, typer.Option(help="continue after the last finished key")] = False,
    upload_tags: Annotated[
        bool, typer.Option(help="read each new object's x-amz-meta-tags (one HEAD each)")
    ] = True,
) -> None:
    """Compare the bucket listing with the index and publish events for every difference."""
    settings = IndexerSettings()
    target = bucket or settings.s3.bucket
    report = asyncio.run(_backfill(settings, target, prefix, dry_run, resume, upload_tags))
    verb = "would publish" if dry_run else "published"
    console.print(
        f"listed {report.listed:,} objects: {report.missing:,} missing from the index, "
        f"{report.changed:,} changed, {report.gone:,} gone, {report.skipped:,} outside the "
        f"layout; {verb} {report.differences if dry_run else report.published:,} event(s)"
    )


async def _backfill(
    settings: IndexerSettings,
    bucket: str,
    prefix: str,
    dry_run: bool,
    resume: bool,
    upload_tags: bool,
) -> bf.Report:
    broker = make_kafka_broker(settings.kafka, client_id="assetflow-backfill")
    producer = BrokerProducer(broker, settings.kafka.topics)
    session = make_s3_session()
    async with (
        _database(settings) as db,
        session.client("s3", **s3_client_kwargs(settings.s3)) as s3,
    ):
        start_after = await bf.saved_progress(db, bucket, prefix) if resume else None
        if not dry_run:
            await broker.connect()

        async def publish(events: list[bf.Event]) -> None:
            await publish_asset_events(producer, "backfill", events)

        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.completed:,} objects, {task.fields[rate]:,.0f}/s"),
            TimeElapsedColumn(),
        )
        try:
            with Progress(*columns, console=console, transient=True) as progress:
                task = progress.add_task(f"listing {bucket}/{prefix}", total=None, rate=0.0)

                async def on_page(report: bf.Report) -> None:
                    if not dry_run:
                        await bf.save_progress(db, bucket, prefix, report)
                    elapsed = progress.tasks[0].elapsed or 1e-9
                    progress.update(task, completed=report.listed, rate=report.listed / elapsed)

                pages = bf.listing_pages(s3, bucket, prefix, start_after, metadata=upload_tags)
                report = await bf.backfill(
                    db,
                    pages,
                    bucket,
                    prefix,
                    None if dry_run else publish,
                    start_after,
                    on_page,
                    tags_from=s3 if upload_tags else None,
                )
            if not dry_run:
                await bf.clear_progress(db, bucket, prefix)
            return report
        finally:
            if not dry_run:
                await broker.stop()


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="who the token is for, e.g. training")],
    scope: Annotated[
        list[str], typer.Option(help="datasets:<id>:read|write, datasets:*:read, admin")
    ],
    ttl: Annotated[str, typer.Option(help="lifetime: 90s, 15m, 12h, 7d")] = "12h",
) -> None:
    """Mint a bearer token signed with API_AUTH_SECRET (local use and tests)."""
    settings = AuthSettings(
        mode="jwt",
        secret=os.environ.get("API_AUTH_SECRET"),
        issuer=os.environ.get("API_AUTH_ISSUER", "assetflow"),
        audience=os.environ.get("API_AUTH_AUDIENCE", "assetflow-api"),
    )
    try:
        settings.check(os.environ.get("ENV", "local"))
        typer.echo(mint(settings, sub, scope, parse_ttl(ttl)))
    except (ConfigError, ValueError) as exc:
        typer.echo(f"assetflow token: {exc}", err=True)
        raise typer.Exit(2) from None


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    main()
