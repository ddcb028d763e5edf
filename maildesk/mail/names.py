"""File names of MIME parts: the base name of what the sender wrote, or one from the type.

A name reaches agents, the database and our outgoing mail; one written as a
path (`../x`, `C:\\x\\y.doc`) must not read as a place on anyone's disk, and
a part that came without a name must not be listed as a nameless file.
"""

import mimetypes
import ntpath

# The stdlib's own table only: /etc/mime.types differs from machine to machine.
_TYPES = mimetypes.MimeTypes()
# Types whose usual name the table does not give.
_NAMES = {
    "text/rfc822-headers": "headers.txt",
    "text/calendar": "invite.ics",
    "application/ics": "invite.ics",
    "application/pgp-signature": "signature.asc",
    "application/pgp-encrypted": "pgp-version.txt",
}
_STEMS = {"image": "image", "audio": "audio", "video": "video", "text": "text"}
_SEPARATORS = str.maketrans({"/": "-", "\\": "-"})


def file_name(given: str, content_type: str, subject: str = "") -> str:
    """The base name of the name the sender gave, else one from the type (type_name)."""
    return base_name(given) or type_name(content_type, subject)


def base_name(name: str) -> str:
    """The last component of `name`, for either path separator; "" when none is left.

    ntpath splits on both `/` and `\\` and drops a drive (`C:`), so Unix and
    Windows paths alike come down to their file name.
    """
    base = ntpath.basename(name.strip()).strip()
    return "" if base in (".", "..") else base


def type_name(content_type: str, subject: str = "") -> str:
    """A name for a part that has none, from its type ("delivery-status.txt", "image.png").

    An attached mail is named after its subject (`subject`), else "message.eml";
    the subject's slashes become dashes, so the name stays one component.
    """
    content_type = content_type.lower()
    maintype, _, subtype = content_type.partition("/")
    if content_type in ("message/rfc822", "message/global"):
        return f"{subject.translate(_SEPARATORS).strip() or 'message'}.eml"
    if maintype == "message":
        return f"{subtype}.txt"  # delivery-status, disposition-notification: header blocks
    if content_type in _NAMES:
        return _NAMES[content_type]
    extension = _TYPES.guess_extension(content_type, strict=False)
    if extension is None:
        extension = ".txt" if maintype == "text" else ".bin"
    return _STEMS.get(maintype, "attachment") + extension
