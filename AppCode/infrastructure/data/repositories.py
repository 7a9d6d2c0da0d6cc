"""SQLAlchemy implementations of core's repository ports; rows become domain objects here."""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from AppCode.core.domain.models import Script
from AppCode.infrastructure.data.orm import ScriptRow, ScriptTagRow


class SqlScriptRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, script_id: int) -> Script | None:
        row = self._session.get(ScriptRow, script_id)
        return _script(row) if row else None

    def get_by_path(self, path: str) -> Script | None:
        row = self._session.scalar(select(ScriptRow).where(ScriptRow.path == path))
        return _script(row) if row else None

    def list(self, *, tag: str | None = None, search: str | None = None) -> list[Script]:
        query = select(ScriptRow).order_by(ScriptRow.path)
        if tag:
            query = query.where(ScriptRow.tags.any(ScriptTagRow.tag == tag))
        if search:
            pattern = f"%{_escape_like(search.lower())}%"
            query = query.where(
                or_(
                    ScriptRow.name.ilike(pattern, escape="\\"),
                    ScriptRow.path.ilike(pattern, escape="\\"),
                    ScriptRow.description.ilike(pattern, escape="\\"),
                )
            )
        return [_script(row) for row in self._session.scalars(query)]

    def add(self, script: Script) -> Script:
        row = ScriptRow(
            path=script.path,
            name=script.name,
            description=script.description,
            size=script.size,
            mtime=script.mtime,
            sha256=script.sha256,
            missing=script.missing,
            tags=[ScriptTagRow(tag=tag) for tag in dict.fromkeys(script.tags)],
        )
        self._session.add(row)
        self._session.flush()
        return _script(row)

    def update(self, script: Script) -> None:
        row = self._session.get(ScriptRow, script.id)
        if row is None:
            raise KeyError(script.id)
        row.path = script.path
        row.name = script.name
        row.description = script.description
        row.size = script.size
        row.mtime = script.mtime
        row.sha256 = script.sha256
        row.missing = script.missing
        wanted = list(dict.fromkeys(script.tags))
        if [t.tag for t in row.tags] != wanted:
            row.tags = [t for t in row.tags if t.tag in wanted]
            have = {t.tag for t in row.tags}
            row.tags.extend(ScriptTagRow(tag=tag) for tag in wanted if tag not in have)
        self._session.flush()

    def remove(self, script_id: int) -> None:
        self._session.execute(delete(ScriptRow).where(ScriptRow.id == script_id))


def _script(row: ScriptRow) -> Script:
    return Script(
        id=row.id,
        path=row.path,
        name=row.name,
        description=row.description,
        size=row.size,
        mtime=row.mtime,
        sha256=row.sha256,
        tags=tuple(sorted(t.tag for t in row.tags)),
        missing=row.missing,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
