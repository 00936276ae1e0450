"""Option and argument types for the command line: every value a user can type is checked here, before anything is
sent, and a bad one is one line naming the option and the accepted form (click prints it as a usage error, exit 2).

Kept free of heavy imports (no web3, no torch): parsing runs on every command, `--help` included.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import click

WEI = 10**18
UINT96_MAX = 2**96 - 1
UINT256_MAX = 2**256 - 1

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_HOST = re.compile(r"^[A-Za-z0-9.\-]+$")


class Amount(click.ParamType):
    """A positive number of CRU with at most 18 decimals ('12.5'), as wei; bounded by the on-chain field it feeds."""

    name = "CRU"

    def __init__(self, *, max_wei: int = UINT256_MAX, allow_zero: bool = False, unit: str = "CRU") -> None:
        self.max_wei = max_wei
        self.allow_zero = allow_zero
        self.unit = self.name = unit

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip()
        form = f"a number of {self.unit} such as 12.5 (at most 18 decimals)"
        try:
            amount = Decimal(text)
        except InvalidOperation:
            self.fail(f"{text!r} is not {form}", param, ctx)
        if not amount.is_finite():
            self.fail(f"{text!r} is not {form}", param, ctx)
        if amount < 0 or (amount == 0 and not self.allow_zero):
            self.fail(f"{text!r}: amounts must be {'zero or more' if self.allow_zero else 'above zero'}", param, ctx)
        wei = amount * WEI
        if wei > self.max_wei:
            self.fail(f"{text!r} is too large (at most {Decimal(self.max_wei) / WEI:.6g} {self.unit})", param, ctx)
        if wei != wei.to_integral_value():
            self.fail(f"{text!r} has more than 18 decimals ({self.unit} has 18)", param, ctx)
        return int(wei)


class Address(click.ParamType):
    """An account address: 0x and 40 hex digits (a mixed-case one must carry a valid EIP-55 checksum)."""

    name = "ADDRESS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if not _ADDRESS.match(text):
            self.fail(f"{text!r} is not an address: expected 0x followed by 40 hex digits", param, ctx)
        from eth_utils import is_checksum_address, to_checksum_address  # noqa: PLC0415 - only when one is given

        body = text[2:]
        if body != body.lower() and body != body.upper() and not is_checksum_address(text):
            self.fail(f"{text!r} has a wrong EIP-55 checksum (mixed case): check it for a typo", param, ctx)
        return str(to_checksum_address(text))


class IpfsApi(click.ParamType):
    """A Kubo RPC API address: a multiaddr (/ip4/127.0.0.1/tcp/5001/http), or an http://host:port URL turned into one."""

    name = "MULTIADDR"
    form = "a Kubo RPC multiaddr such as /ip4/127.0.0.1/tcp/5001/http (or http://127.0.0.1:5001)"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        try:
            return ipfs_multiaddr(text)
        except ValueError as exc:
            self.fail(f"{text!r} is not {self.form} ({exc})", param, ctx)


def ipfs_multiaddr(text: str) -> str:
    """The multiaddr for `text` (a multiaddr or an http URL); ValueError says what is wrong."""
    if text.startswith(("http://", "https://")):
        from urllib.parse import urlsplit  # noqa: PLC0415

        parts = urlsplit(text)
        if not parts.hostname or parts.port is None:
            raise ValueError("the URL needs a host and a port")
        if parts.path not in ("", "/"):
            raise ValueError("give the API's address only, without a path")
        host = parts.hostname
        proto = "ip4" if re.match(r"^\d+\.\d+\.\d+\.\d+$", host) else ("ip6" if ":" in host else "dns")
        return f"/{proto}/{host}/tcp/{parts.port}/{parts.scheme}"
    fields = text.split("/")
    if len(fields) != 6 or fields[0] != "" or fields[1] not in ("ip4", "ip6", "dns", "dns4", "dns6"):
        raise ValueError("expected /ip4/HOST/tcp/PORT/http")
    _, proto, host, tcp, port, scheme = fields
    if tcp != "tcp" or scheme not in ("http", "https"):
        raise ValueError("expected .../tcp/PORT/http")
    if proto == "ip4" and not re.match(r"^\d+\.\d+\.\d+\.\d+$", host):
        raise ValueError(f"{host!r} is not an IPv4 address")
    if proto != "ip6" and not _HOST.match(host):
        raise ValueError(f"{host!r} is not a host name")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{port!r} is not a TCP port (1-65535)")
    return text


def api_port(multiaddr: str) -> int:
    """The TCP port of a multiaddr checked by `ipfs_multiaddr`."""
    return int(multiaddr.split("/")[4])


class RpcUrl(click.ParamType):
    """An http(s) JSON-RPC endpoint."""

    name = "URL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from urllib.parse import urlsplit  # noqa: PLC0415

        text = str(value).strip()
        try:
            parts = urlsplit(text)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 1) > 0
        except ValueError:
            ok = False
        if not ok:
            self.fail(f"{text!r} is not an RPC URL such as http://127.0.0.1:8545", param, ctx)
        return text


class Finite(click.FloatRange):
    """A float range that also refuses NaN and infinities."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


JOB_ID = click.IntRange(1, UINT256_MAX)  # job ids are uint256 on-chain, from 1
AMOUNT = Amount()
ADDRESS = Address()
IPFS_API = IpfsApi()
RPC_URL = RpcUrl()
DEFAULT_IPFS_API = "/ip4/127.0.0.1/tcp/5001/http"


def ipfs_api_option(*, help_suffix: str = "") -> Any:
    """The --ipfs-api option every IPFS-using command shares (default: the Kubo that `network up` starts)."""
    return click.option(
        "--ipfs-api", envvar="CRUCIBLE_IPFS_API", type=IPFS_API, default=DEFAULT_IPFS_API, show_default=True,
        help="Kubo RPC API (multiaddr or http://host:port); `crucible network up` serves the default." + help_suffix,
    )  # fmt: skip
