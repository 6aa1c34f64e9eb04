"""A real DNS server (dnslib) on loopback serving test zones over UDP and TCP, and a
silent one that never answers. Records are added in Python because the DKIM records
carry keys the tests generate."""
from __future__ import annotations

import socket
import threading

from dnslib import CNAME, MX, QTYPE, RCODE, RR, TXT, A, AAAA, DNSLabel
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class Zones(BaseResolver):
    """Authoritative answers for every name added: NXDOMAIN for unknown names, an empty
    answer for a known name without the asked type, CNAMEs followed."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], list[RR]] = {}
        self.queries: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def _add(self, name: str, rtype: str, rdata) -> "Zones":
        key = (name.lower().rstrip(".") + ".", rtype)
        with self.lock:
            self.records.setdefault(key, []).append(RR(DNSLabel(key[0]), getattr(QTYPE, rtype), rdata=rdata, ttl=60))
        return self

    def txt(self, name: str, *values: str) -> "Zones":
        """One TXT record per value, each split into 255-byte strings as DNS requires."""
        for value in values:
            data = value.encode("utf-8")
            self._add(name, "TXT", TXT([data[i:i + 255] for i in range(0, len(data), 255)] or [b""]))
        return self

    def a(self, name: str, *addresses: str) -> "Zones":
        for address in addresses:
            self._add(name, "AAAA" if ":" in address else "A", AAAA(address) if ":" in address else A(address))
        return self

    def mx(self, name: str, host: str, preference: int = 10) -> "Zones":
        return self._add(name, "MX", MX(host, preference))

    def cname(self, name: str, target: str) -> "Zones":
        return self._add(name, "CNAME", CNAME(target))

    def remove(self, name: str, rtype: str) -> None:
        with self.lock:
            self.records.pop((name.lower().rstrip(".") + ".", rtype), None)

    def resolve(self, request, handler):
        reply = request.reply()
        name, rtype = str(request.q.qname).lower(), QTYPE[request.q.qtype]
        with self.lock:
            self.queries.append((name, rtype))
            for _ in range(8):
                target = self.records.get((name, "CNAME"))
                if not target or rtype == "CNAME":
                    break
                reply.add_answer(*target)
                name = str(target[0].rdata.label).lower()
            answers = self.records.get((name, rtype), [])
            known = any(key[0] == name for key in self.records)
        for record in answers:
            reply.add_answer(record)
        if not answers and not known:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


class ZoneServer:
    """``Zones`` served on 127.0.0.1 at one port for UDP and TCP; ``nameserver`` is host:port."""

    def __init__(self, zones: Zones):
        self.zones = zones
        quiet = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)
        for _ in range(20):
            port = _free_udp_port()
            self.udp = DNSServer(zones, port=port, address="127.0.0.1", logger=quiet)
            try:
                self.tcp = DNSServer(zones, port=port, address="127.0.0.1", tcp=True, logger=quiet)
                break
            except OSError:  # the TCP port of that number is taken: try another number
                self.udp.server.server_close()
        self.port = port
        self.nameserver = f"127.0.0.1:{port}"

    def start(self) -> "ZoneServer":
        self.udp.start_thread()
        self.tcp.start_thread()
        return self

    def stop(self) -> None:
        self.udp.stop()
        self.tcp.stop()
        self.udp.server.server_close()
        self.tcp.server.server_close()


class SilentServer:
    """A UDP socket that receives queries and never answers: DNS that cannot be reached."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.nameserver = f"127.0.0.1:{self.socket.getsockname()[1]}"

    def close(self) -> None:
        self.socket.close()


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
