#!/usr/bin/env python3
"""The services of one real server of the e2e LAN (test/kernel/e2e/lan-core.mjs).

    servers.py NAME --tcp 80,8080 --udp 53

HTTP on every --tcp port (IPv4 and IPv6, HTTP/1.1 keep-alive): every GET is
answered 200 with the body "NAME\n" and the headers X-Server: NAME,
X-Client: the client address the server saw, and X-Port: the port it was
reached on (LVS-NAT may map ports).

UDP on every --udp port: each datagram is answered with "NAME", sent *from
the address the datagram was sent to* (IP_PKTINFO / IPV6_PKTINFO). Under
LVS-DR and LVS-TUN that address is the VIP on lo, which is what the client
expects to hear from; a socket bound to 0.0.0.0 would otherwise answer from
the address of the outgoing interface.

Prints READY once every socket is bound; runs until killed.
"""
import argparse
import http.server
import socket
import socketserver
import struct
import sys
import threading

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Python does not export it


def main():
    p = argparse.ArgumentParser()
    p.add_argument("name")
    p.add_argument("--tcp", default="")
    p.add_argument("--udp", default="")
    args = p.parse_args()
    name = args.name
    ports = lambda s: [int(x) for x in s.split(",") if x]

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            body = (name + "\n").encode()
            client = self.client_address[0]
            if client.startswith("::ffff:"):
                client = client[len("::ffff:"):]
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Server", name)
            self.send_header("X-Client", client)
            self.send_header("X-Port", str(self.connection.getsockname()[1]))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        address_family = socket.AF_INET6
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = 128

        def server_bind(self):
            # dual stack; and skip HTTPServer.server_bind, whose getfqdn() would
            # try DNS in a namespace without any
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            socketserver.TCPServer.server_bind(self)
            self.server_name = name
            self.server_port = self.server_address[1]

    threads = []
    for port in ports(args.tcp):
        srv = Server(("::", port), Handler)
        threads.append(threading.Thread(target=srv.serve_forever, daemon=True))

    def udp4(port):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        s.bind(("0.0.0.0", port))

        def loop():
            while True:
                _, anc, _, addr = s.recvmsg(2048, socket.CMSG_SPACE(12))
                dst = b"\0\0\0\0"
                for level, kind, data in anc:
                    if level == socket.IPPROTO_IP and kind == IP_PKTINFO:
                        _, _, dst = struct.unpack("I4s4s", data[:12])
                # in_pktinfo: ifindex 0, ipi_spec_dst = the source address to use
                s.sendmsg([name.encode()], [(socket.IPPROTO_IP, IP_PKTINFO, struct.pack("I4s4s", 0, dst, b"\0" * 4))], 0, addr)
        return loop

    def udp6(port):
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
        s.bind(("::", port))

        def loop():
            while True:
                _, anc, _, addr = s.recvmsg(2048, socket.CMSG_SPACE(20))
                dst = b"\0" * 16
                for level, kind, data in anc:
                    if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO:
                        dst = data[:16]
                s.sendmsg([name.encode()], [(socket.IPPROTO_IPV6, socket.IPV6_PKTINFO, struct.pack("16sI", dst, 0))], 0, addr)
        return loop

    for port in ports(args.udp):
        threads.append(threading.Thread(target=udp4(port), daemon=True))
        threads.append(threading.Thread(target=udp6(port), daemon=True))

    for t in threads:
        t.start()
    print("READY", flush=True)
    # run until killed, or until our parent closes stdin
    try:
        sys.stdin.read()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
