"""`/imports`: upload a roster, filings or events file (and applications where that import exists), see the
dry run (what would change, or every `FILE:ROW: column: reason` with FILE the uploaded name), then apply that
same upload with one button (no second upload). All or nothing, as `sme-monitor ... import`: the same
`monitor.importing.import_file`.

The upload waits in a private temporary directory under a random name, tied to the session that sent it;
only that session can apply it, once.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
from pathlib import Path

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from monitor.importing import FILE_KINDS, ImportFailed, ImportOptions, Summary, import_file
from web.access import Action, Scope, scope
from web.console import page, post
from web.context import app_state, request_now, request_today
from web.errors import NotFound
from web.i18n import add_texts

UPLOADS = Path(tempfile.gettempdir()) / "sme-monitor-uploads"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
CHUNK = 1 << 20

add_texts(
    {
        "imports.title": ("导入文件", "Import a file"),
        "imports.kind": ("文件内容", "What the file holds"),
        "imports.file": ("文件（CSV、XLSX 或 JSON）", "File (CSV, XLSX or JSON)"),
        "imports.check": ("上传并试运行", "Upload and check (dry run)"),
        "imports.dry_ok": ("试运行通过：{line}", "Dry run passed: {line}"),
        "imports.apply": ("确认导入该文件", "Apply this upload"),
        "imports.bad": (
            "文件有 {n} 个问题，未写入任何数据。请修改后重新上传：",
            "{n} problems: nothing was written. Correct the file and upload it again:",
        ),
        "imports.done": ("已导入：{line}", "Imported: {line}"),
        "imports.gone": ("该上传已失效，请重新上传。", "This upload is no longer available; upload the file again."),
        "imports.no_file": ("请选择文件", "choose a file"),
        "kind.entities": ("名册（认定主体）", "roster (entities)"),
        "kind.filings": ("月度填报", "monthly filings"),
        "kind.events": ("事件（含区县年度报告）", "events (district reports too)"),
        "kind.applications": ("申报材料", "applications"),
    }
)


def _kinds() -> list[str]:
    return list(FILE_KINDS)


def _options(request: Request, me: Scope, source: str) -> ImportOptions:
    settings = app_state(request).settings
    return ImportOptions(
        today=request_today(request),
        now=request_now(request),
        districts=frozenset(d.name for d in settings.districts),
        source=source[:300],
        recorded_by=me.user.name,
    )


def _safe_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name.strip() or "upload.csv"
    base = "".join(c for c in base if c.isprintable() and c not in '/\\:*?"<>|')
    return base[:120] or "upload.csv"


def imports_form(request: Request) -> Response:
    me = scope(request, Action.IMPORT)
    return page(request, me, "console/imports.html", {"kinds": _kinds(), "kind": "", "result": None})


def _run(
    request: Request, me: Scope, kind: str, path: Path, name: str, *, dry_run: bool
) -> tuple[Summary | None, list[str]]:
    try:
        return import_file(app_state(request).db, kind, path, name, _options(request, me, name), dry_run=dry_run), []
    except ImportFailed as exc:
        return None, exc.lines


def upload(request: Request, form: FormData) -> Response:
    me = scope(request, Action.IMPORT, form)
    kind = str(form.get("kind") or "")
    file = form.get("file")
    if kind not in FILE_KINDS or not isinstance(file, UploadFile) or not file.filename:
        return page(
            request,
            me,
            "console/imports.html",
            {"kinds": _kinds(), "kind": kind, "result": None, "form_error": "imports.no_file"},
            status_code=422,
        )
    name = _safe_name(file.filename)
    token = secrets.token_urlsafe(24)
    folder = UPLOADS / token
    folder.mkdir(parents=True, mode=0o700)
    path = folder / name
    with path.open("wb") as out:
        file.file.seek(0)
        shutil.copyfileobj(file.file, out, CHUNK)
    summary, problems = _run(request, me, kind, path, name, dry_run=True)
    if summary is None:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        (folder / "upload.json").write_text(json.dumps({"session": me.session_id, "kind": kind, "name": name}))
    return page(
        request,
        me,
        "console/imports.html",
        {
            "kinds": _kinds(),
            "kind": kind,
            "result": {"summary": summary, "problems": problems, "name": name, "token": token, "applied": False},
        },
        status_code=200 if summary is not None else 422,
    )


def apply(request: Request, form: FormData) -> Response:
    me = scope(request, Action.IMPORT, form)
    token = str(form.get("upload") or "")
    folder = UPLOADS / token
    meta_path = folder / "upload.json"
    if not _TOKEN.match(token) or not meta_path.is_file():
        raise NotFound("该上传已失效，请重新上传", "this upload is no longer available")
    meta = json.loads(meta_path.read_text())
    if meta.get("session") != me.session_id:
        raise NotFound("该上传已失效，请重新上传", "this upload is no longer available")
    kind, name = str(meta["kind"]), str(meta["name"])
    meta_path.unlink()  # once
    try:
        summary, problems = _run(request, me, kind, folder / name, name, dry_run=False)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return page(
        request,
        me,
        "console/imports.html",
        {
            "kinds": _kinds(),
            "kind": kind,
            "result": {"summary": summary, "problems": problems, "name": name, "token": "", "applied": True},
        },
        status_code=200 if summary is not None else 422,
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/imports", imports_form, methods=["GET"]),
        Route("/imports", post(upload, keep=("kind",)), methods=["POST"]),
        Route("/imports/apply", post(apply, keep=("upload",)), methods=["POST"]),
    ]
