"""SHA-256 whose state can be saved and resumed: a dump's checksum after an edit, without
hashing again the part of the dump before the first changed piece.

A dump is the same pieces in the same order, build after build; an incremental build changes
a few of them. hashlib cannot save a hash's state, so every build used to hash every dump's
3 GB (at 10k documents) again: most of an incremental build's CPU. OpenSSL's low-level
SHA256_Init/Update/Final (deprecated in OpenSSL 3, still exported by libcrypto, which
Python's hashlib loads anyway) work on a caller-owned SHA256_CTX: its bytes are the state.
The same SHA-NI code as hashlib's, called through ctypes (which releases the GIL).

`available()` is False when libcrypto or these functions cannot be found, or when a state
saved and resumed does not give hashlib's digest (a layout not the one assumed here): the
caller then hashes everything, as before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import hashlib

# struct SHA256state_st { SHA_LONG h[8]; SHA_LONG Nl, Nh; SHA_LONG data[16]; unsigned int
# num, md_len; }: 112 bytes. The buffer is larger, in case a build of OpenSSL's is; the check
# in available() fails if the state does not fit in STATE_BYTES.
STATE_BYTES = 112
_BUFFER_BYTES = 256


@functools.cache
def _library() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("crypto")
    if name is None:
        return None
    try:
        library = ctypes.CDLL(name)
        for function in ("SHA256_Init", "SHA256_Update", "SHA256_Final"):
            getattr(library, function).restype = ctypes.c_int
        # The data as a void pointer: bytes, or an address (`update_at`).
        library.SHA256_Update.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
        library.SHA256_Init.argtypes = [ctypes.c_void_p]
        library.SHA256_Final.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    except (OSError, AttributeError):
        return None
    return library


class Sha256:
    """hashlib.sha256's update/hexdigest, plus `state()` and `Sha256(state)`."""

    def __init__(self, state: bytes | None = None) -> None:
        library = _library()
        if library is None:
            raise RuntimeError("libcrypto's SHA256 functions are not available")
        self._library = library
        self._context = ctypes.create_string_buffer(_BUFFER_BYTES)
        if state is None:
            library.SHA256_Init(self._context)
        else:
            if len(state) != STATE_BYTES:
                raise ValueError(f"a state is {STATE_BYTES} bytes, not {len(state)}")
            ctypes.memmove(self._context, state, STATE_BYTES)

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """`data`: bytes, or a writable buffer (a slice of a reused bytearray: no copy)."""
        if isinstance(data, bytes):
            self._library.SHA256_Update(self._context, data, len(data))
            return
        view = memoryview(data)
        if view.nbytes:
            array = (ctypes.c_char * view.nbytes).from_buffer(view)
            self._library.SHA256_Update(self._context, array, view.nbytes)

    def update_at(self, address: int, length: int) -> None:
        """`length` bytes at `address` (memory the caller keeps mapped meanwhile): no buffer
        object, no ctypes array type made per length."""
        if length:
            self._library.SHA256_Update(self._context, address, length)

    def state(self) -> bytes:
        return self._context.raw[:STATE_BYTES]

    def hexdigest(self) -> str:
        # Final changes the context: finish a copy, so the hash can go on.
        copy = ctypes.create_string_buffer(self._context.raw, _BUFFER_BYTES)
        digest = ctypes.create_string_buffer(32)
        self._library.SHA256_Final(digest, copy)
        return digest.raw.hex()


@functools.cache
def available() -> bool:
    """Whether Sha256 works here, checked against hashlib across a saved and resumed state."""
    if _library() is None:
        return False
    first, second = (
        b"Xocal\xc4\xb1 \xd0\xa5\xd0\xbe\xd0\xb4\xd0\xb6\xd0\xb0\xd0\xbb\xd1\x8b" * 7,
        b"1992" * 33,
    )
    try:
        hashed = Sha256()
        hashed.update(first)
        resumed = Sha256(hashed.state())
        resumed.update(second)
        return resumed.hexdigest() == hashlib.sha256(first + second).hexdigest()
    except (OSError, ValueError, RuntimeError, ctypes.ArgumentError):
        return False
