"""Document storage: one place for the files the product keeps, through fsspec (``SCC_STORAGE_URL``).

A folder by default (``<data_dir>/storage``), or ``s3://bucket/prefix`` on AWS S3 or any S3-compatible store
(``SCC_STORAGE_ENDPOINT_URL``, credentials from the settings or the usual AWS chain). What goes there, by key:

- ``transactions/<id>/sales-order-<id>.pdf``: an approved draft's PDF, written at approval (its key on the
  transaction, ``pdf_key``);
- ``digests/<day>/<scope>/<kind>-<recipient>.eml``: each digest as sent;
- ``exports/<user>/<stamp>-<name>.{csv,xlsx,pdf}``: what a user exported (an answer's table, a dashboard tab);
- ``audit/<yyyy>/<mm>/<day>.jsonl.gz`` and ``….manifest.json``: the audit log, one object per UTC day.

Objects written with ``create_only`` are never replaced: on S3 the write is conditional (``If-None-Match: *``),
so of two writers exactly one succeeds; on a folder the file is linked into place only if no file has the
name, then made read-only. For retention beyond the product's reach, put S3 Object Lock on the bucket.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from scc.config import Settings, get_settings

KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=@+-]*(/[A-Za-z0-9][A-Za-z0-9._=@+-]*)*$")
CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".csv": "text/csv; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".eml": "message/rfc822",
    ".gz": "application/gzip",
    ".json": "application/json",
}


class StorageError(RuntimeError):
    """The store could not be reached or refused the operation (the message says which and where)."""


class AlreadyExists(StorageError):
    """A create-only object already exists: it is never rewritten."""


class BadKey(ValueError):
    pass


@dataclass(frozen=True)
class Stored:
    key: str
    size: int
    sha256: str


def check_key(key: str) -> str:
    """A key is relative, of plain segments (letters, digits, ``._=@+-``), none starting with a dot."""
    if not isinstance(key, str) or len(key) > 512 or not KEY.match(key):
        raise BadKey("a document key is a relative path of letters, digits and ._=@+- (no '..', no leading '/')")
    return key


def slug(text: str, limit: int = 64) -> str:
    """A key segment from any text (a user id, a territory): readable where it can be, never a path."""
    cleaned = re.sub(r"[^A-Za-z0-9._=@+-]+", "-", text).strip("-.")[:limit]
    return cleaned or hashlib.sha256(text.encode()).hexdigest()[:16]


def content_type(key: str) -> str:
    return CONTENT_TYPES.get(Path(key).suffix, "application/octet-stream")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Storage:
    """Objects under one root: a local folder or an fsspec URL (``s3://bucket/prefix``)."""

    def __init__(self, url: str, **options):
        self.url = url.rstrip("/")
        self.options = options
        self.local = "://" not in url or url.startswith("file://")
        if self.local:
            self.root = Path(url.removeprefix("file://"))
            self.fs = None
        else:
            import fsspec

            protocol = url.split("://", 1)[0]
            self.fs = fsspec.filesystem(protocol, **options)
            self.root = None
            self.base = self.fs._strip_protocol(self.url)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Storage:
        settings = settings or get_settings()
        url = settings.storage_url or str(settings.data_dir / "storage")
        options: dict = {}
        if url.startswith(("s3://", "s3a://")):
            url = "s3://" + url.split("://", 1)[1]
            client: dict = {}
            if settings.storage_endpoint_url:
                options["endpoint_url"] = settings.storage_endpoint_url
            if settings.storage_region:
                client["region_name"] = settings.storage_region
            if settings.storage_access_key_id:
                options["key"] = settings.storage_access_key_id
            if settings.storage_secret_access_key:
                options["secret"] = settings.storage_secret_access_key.get_secret_value()
            if client:
                options["client_kwargs"] = client
            options["skip_instance_cache"] = True  # a fresh client per Storage: no event loop shared across forks
        return cls(url, **options)

    def __repr__(self) -> str:  # never the credentials
        return f"Storage({self.url!r})"

    # --- paths ---------------------------------------------------------------------------------------

    def _path(self, key: str) -> Path | str:
        check_key(key)
        return self.root / key if self.local else f"{self.base}/{key}"

    def _fail(self, what: str, key: str, error: Exception) -> StorageError:
        return StorageError(f"document storage {self.url} could not {what} {key}: {type(error).__name__}: {error}")

    # --- operations ----------------------------------------------------------------------------------

    def put(self, key: str, data: bytes, *, create_only: bool = False) -> Stored:
        """Write ``data`` under ``key`` (replacing it, unless ``create_only``: then AlreadyExists if it is there)."""
        path = self._path(key)
        stored = Stored(key, len(data), sha256(data))
        if self.local:
            self._put_local(path, data, create_only)
            return stored
        try:
            self.fs.pipe_file(path, data, mode="create" if create_only else "overwrite")
        except FileExistsError:
            raise AlreadyExists(f"{key} already exists and is never rewritten") from None
        except OSError as error:
            if create_only and _precondition_failed(error):
                raise AlreadyExists(f"{key} already exists and is never rewritten") from None
            raise self._fail("write", key, error) from error
        except Exception as error:  # noqa: BLE001 - botocore and aiohttp errors: one plain message
            if create_only and _precondition_failed(error):
                raise AlreadyExists(f"{key} already exists and is never rewritten") from None
            raise self._fail("write", key, error) from error
        return stored

    @staticmethod
    def _put_local(path: Path, data: bytes, create_only: bool) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            if create_only:
                os.chmod(temporary, 0o444)
                try:
                    os.link(temporary, path)  # atomic, and fails when the name exists: never replaced
                except FileExistsError:
                    raise AlreadyExists(f"{path.name} already exists and is never rewritten") from None
            else:
                os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

    def get(self, key: str) -> bytes:
        """The object's bytes; FileNotFoundError when there is none."""
        path = self._path(key)
        if self.local:
            return Path(path).read_bytes()
        try:
            return self.fs.cat_file(path)
        except FileNotFoundError:
            raise
        except Exception as error:  # noqa: BLE001
            raise self._fail("read", key, error) from error

    def exists(self, key: str) -> bool:
        path = self._path(key)
        if self.local:
            return Path(path).is_file()
        try:
            return self.fs.exists(path)
        except Exception as error:  # noqa: BLE001
            raise self._fail("look up", key, error) from error

    def list(self, prefix: str) -> list[str]:
        """Keys under a folder-like prefix (``audit/2026/05``), sorted."""
        prefix = check_key(prefix.strip("/"))
        if self.local:
            folder = self.root / prefix
            if not folder.is_dir():
                return []
            return sorted(str(p.relative_to(self.root)) for p in folder.rglob("*")
                          if p.is_file() and not p.name.startswith("."))
        try:
            found = self.fs.find(f"{self.base}/{prefix}")
        except FileNotFoundError:
            return []
        except Exception as error:  # noqa: BLE001
            raise self._fail("list", prefix, error) from error
        return sorted(path[len(self.base) + 1:] for path in found)


def _precondition_failed(error: BaseException) -> bool:
    """Whether an S3 error is the refusal of a conditional write (412 PreconditionFailed, 409 from some stores)."""
    while error is not None:
        text = f"{type(error).__name__} {error}"
        if "PreconditionFailed" in text or "At least one of the pre-conditions" in text or "412" in text:
            return True
        error = error.__cause__ or error.__context__
    return False


_stores: dict[tuple, Storage] = {}


def get_storage(settings: Settings | None = None) -> Storage:
    """This process's storage for the settings (one client per URL and process)."""
    settings = settings or get_settings()
    key = (os.getpid(), settings.storage_url, str(settings.data_dir), settings.storage_endpoint_url,
           settings.storage_access_key_id)
    if key not in _stores:
        _stores[key] = Storage.from_settings(settings)
    return _stores[key]


# --- whose a document is: the key segment of a scope (digests), checked against the caller's ---------------

ALL_ROLES_SEGMENT = "all"


def scope_segment(role: str, rep_id: str | None = None, territory: str | None = None) -> str:
    """The key segment naming the rows a document shows: ``all``, ``territory=<T>`` or ``rep=<id>``."""
    if role == "sales_rep" and rep_id:
        return f"rep={slug(rep_id)}"
    if role == "sales_manager" and territory:
        return f"territory={slug(territory)}"
    return ALL_ROLES_SEGMENT


def segment_visible(segment: str, role: str, rep_id: str | None = None, territory: str | None = None) -> bool:
    """Whether a caller of this scope may read a document of ``segment`` (the whole company sees every one)."""
    if role in ("sales_exec", "finance_viewer"):
        return True
    return segment == scope_segment(role, rep_id, territory)
