"""Calling NVML one field at a time: `NA` for what is unsupported or failed, older entry points when the
newer ones are missing, and a `DeviceLost` when the GPU has fallen off the bus.

`nvml` is any module-like object with pynvml's names: the real `pynvml`, or `gpu.fake_nvml.FakeNvml`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from gpu.na import NA

log = logging.getLogger(__name__)

# Error codes (NVML's ABI, the same in every pynvml version).
ERROR_NOT_SUPPORTED = 3
ERROR_NO_PERMISSION = 4
ERROR_NOT_FOUND = 6
ERROR_DRIVER_NOT_LOADED = 9
ERROR_LIBRARY_NOT_FOUND = 12
ERROR_FUNCTION_NOT_FOUND = 13
ERROR_GPU_IS_LOST = 15
ERROR_RESET_REQUIRED = 16
ERROR_LIB_RM_VERSION_MISMATCH = 18
ERROR_ARGUMENT_VERSION_MISMATCH = 25
ERROR_GPU_NOT_FOUND = 28

# The entry point is absent from this driver (or this binding): try the next, older one.
_MISSING_ENTRY_POINT = {ERROR_FUNCTION_NOT_FOUND, ERROR_ARGUMENT_VERSION_MISMATCH}
# The GPU is gone until the driver is reset (NVML reports an Xid in the kernel log for these).
_LOST = {ERROR_GPU_IS_LOST, ERROR_RESET_REQUIRED, ERROR_GPU_NOT_FOUND}

Variant = tuple[str, tuple[Any, ...]]


class DeviceLost(Exception):
    """A call said the GPU is lost; the device reader turns this into a "lost" snapshot."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def error_code(exc: BaseException) -> int | None:
    value = getattr(exc, "value", None)
    return value if isinstance(value, int) else None


class NvmlQuery:
    """The one place that calls NVML entry points.

    `call(field, variants)` tries the variants newest first and remembers, per field, the first one the
    driver has, so the fallback costs one failed call per run, not one per sample. A field that is not
    supported on a device is remembered too and not asked again.
    """

    def __init__(self, nvml: Any) -> None:
        self.nvml = nvml
        self._error_type: type[BaseException] = getattr(nvml, "NVMLError", Exception)
        self._chosen: dict[str, int] = {}  # field -> index of the first variant the driver has
        self._unsupported: set[tuple[int, str]] = set()  # (device index, field)
        self._logged: set[tuple[Any, ...]] = set()

    def variant_used(self, field: str) -> int | None:
        """Which variant (0 = newest) answered `field`, once one has."""
        return self._chosen.get(field)

    def call(
        self,
        field: str,
        variants: Sequence[Variant],
        *,
        device: int | None = None,
        not_found: Any = NA,
    ) -> Any:
        """The first variant's answer, or `NA`; raises only `DeviceLost`.

        `not_found` is returned for NVML_ERROR_NOT_FOUND (e.g. "no process samples since then").
        """
        if device is not None and (device, field) in self._unsupported:
            return NA
        start = self._chosen.get(field, 0)
        not_supported = False
        for i in range(start, len(variants)):
            name, args = variants[i]
            try:
                fn = getattr(self.nvml, name)
            except AttributeError:  # this binding predates the entry point
                self._note_missing(field, i, len(variants), name, "not in this nvidia-ml-py")
                continue
            try:
                value = fn(*args)
            except self._error_type as exc:
                code = error_code(exc)
                if code in _MISSING_ENTRY_POINT:
                    self._note_missing(field, i, len(variants), name, str(exc))
                    continue
                if code in _LOST:
                    raise DeviceLost(code, str(exc)) from None
                if code == ERROR_NOT_FOUND:
                    return not_found
                if code == ERROR_NOT_SUPPORTED:
                    not_supported = True
                    continue  # an older entry point may still answer
                self._log_once(("error", device, field, code), logging.DEBUG, "GPU %s: %s unavailable: %s", device, field, exc)
                return NA
            except Exception as exc:  # noqa: BLE001 - a broken field must not lose the others
                self._log_once(("bug", field, type(exc)), logging.WARNING, "GPU %s: reading %s failed: %r", device, field, exc)
                return NA
            self._chosen[field] = i
            return value
        if not_supported and device is not None:
            self._unsupported.add((device, field))
            self._log_once(("unsupported", device, field), logging.DEBUG, "GPU %s: %s not supported", device, field)
        return NA

    def _note_missing(self, field: str, i: int, n: int, name: str, why: str) -> None:
        if i + 1 < n:
            self._chosen[field] = i + 1
        self._log_once(("missing", name), logging.DEBUG, "NVML %s unavailable (%s); using an older call", name, why)

    def _log_once(self, key: tuple[Any, ...], level: int, msg: str, *args: Any) -> None:
        if key not in self._logged:
            self._logged.add(key)
            log.log(level, msg, *args)
