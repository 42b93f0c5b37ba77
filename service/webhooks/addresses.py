"""Where webhooks may go: the admin's allow-list, and never a private address by accident.

Two settings, both set by the operator (docs/webhooks.md):
  `SCHOOLGATE_WEBHOOK_ALLOWED_HOSTS`    — host names (or `*.suffix`) a school may register;
  `SCHOOLGATE_WEBHOOK_ALLOWED_NETWORKS` — CIDR ranges that may be reached although they
                                          are not public (loopback, 10/8, …): empty by default.

The host is resolved before every attempt and **every** address it resolves to is
checked; one non-public address outside the allowed networks refuses the whole host
(a name that answers both a public and a private address is refused). The connection
then goes to the address that was checked (pinned), so a second DNS answer cannot send
it elsewhere (DNS rebinding). `http` is accepted only when every address lies in an
allowed network (a receiver on a trusted local network); otherwise `https` is required.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]
URL_LIMIT = 2000


class AddressRefused(Exception):
    """A URL the policy refuses; `code` is stable, `message` is for people (Chinese)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Target:
    """A checked destination: connect to `address`, present `host`."""

    url: str
    scheme: str
    host: str
    port: int
    path: str  # path and query
    address: str

    @property
    def pinned_url(self) -> str:
        literal = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{literal}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


@dataclass(frozen=True)
class AddressPolicy:
    allowed_hosts: tuple[str, ...] = ()
    allowed_networks: tuple[IPNetwork, ...] = field(default=())

    @classmethod
    def from_settings(cls, hosts: Sequence[str], networks: Sequence[str]) -> AddressPolicy:
        return cls(
            tuple(h.strip().lower().rstrip(".") for h in hosts if h.strip()),
            tuple(ipaddress.ip_network(n.strip(), strict=False) for n in networks if n.strip()),
        )

    def host_allowed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        for pattern in self.allowed_hosts:
            if pattern.startswith("*."):
                if host.endswith(pattern[1:]) and host != pattern[2:]:
                    return True
            elif host == pattern:
                return True
        return False

    def in_allowed_network(self, address: IPAddress) -> bool:
        return any(address.version == n.version and address in n for n in self.allowed_networks)

    def address_allowed(self, address: IPAddress) -> bool:
        return self.in_allowed_network(address) or _public(address)


def _public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _public(address.ipv4_mapped)
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified)


def parse(url: str) -> SplitResult:
    """The URL's parts, or AddressRefused naming what is wrong with its shape."""
    if not url or len(url) > URL_LIMIT or any(c.isspace() or ord(c) < 32 for c in url):
        raise AddressRefused("invalid_webhook_url", f"请填写有效的网址（不超过 {URL_LIMIT} 个字符）")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressRefused("invalid_webhook_url", "网址须以 https:// 开头并包含主机名")
    if parts.username or parts.password or parts.fragment:
        raise AddressRefused("invalid_webhook_url", "网址不能包含用户名、密码或 # 片段")
    try:
        _ = parts.port  # urlsplit checks the port only when it is read
    except ValueError:
        raise AddressRefused("invalid_webhook_url", "网址中的端口无效") from None
    return parts


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def check(url: str, policy: AddressPolicy, resolve: Resolver = system_resolver) -> Target:
    """Resolve and check a URL now; the Target is what to connect to."""
    parts = parse(url)
    host = parts.hostname or ""
    if not policy.host_allowed(host):
        raise AddressRefused("webhook_host_not_allowed", "该网址的主机不在管理员允许的推送地址名单中")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        found = [str(literal)]
    else:
        try:
            found = await resolve(host, port)
        except OSError:
            found = []
        if not found:
            raise AddressRefused("webhook_host_unresolvable", "无法解析该网址的主机名")
    addresses = [ipaddress.ip_address(a.split("%")[0]) for a in found]
    if not all(policy.address_allowed(a) for a in addresses):
        raise AddressRefused("webhook_address_not_allowed", "该网址指向本机、内网或保留地址，不允许推送")
    if parts.scheme == "http" and not all(policy.in_allowed_network(a) for a in addresses):
        raise AddressRefused("webhook_https_required", "推送地址须使用 https")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(url, parts.scheme, host, port, path, str(addresses[0]))
