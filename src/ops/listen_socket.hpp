// Sockets of the operations endpoints: the listening one, from the --metrics-address forms, and
// the admin client's connection to it.
#pragma once

#include "unique_fd.hpp"

#include <chrono>
#include <string>
#include <sys/socket.h>

namespace warden {

// A non-blocking TCP socket listening on `address`: "host:port" with an IPv4 address or a name
// ("127.0.0.1:9464", "localhost:9464"), "[IPv6]:port" ("[::1]:9464"; "[::]:9464" takes IPv4 too),
// or a bare port for every IPv4 interface. Port 0 picks a free one. Throws std::runtime_error
// saying what is wrong with the address or why it cannot be listened on.
UniqueFd listen_tcp(const std::string& address);

// A non-blocking TCP socket connected to `address`: "host:port" or "[IPv6]:port" as above (a bare
// port is on 127.0.0.1). Throws std::runtime_error, naming the address, when no connection is
// made before `deadline`.
UniqueFd connect_tcp(const std::string& address, std::chrono::steady_clock::time_point deadline);

// Waits until `fd` is ready for `events` (poll's); false when `deadline` passed first.
bool wait_until_ready(int fd, short events, std::chrono::steady_clock::time_point deadline);

// The port a bound socket listens on.
int local_port(int fd);

// A peer's IPv4 or IPv6 address as text, without the port ("" for another family).
std::string address_text(const sockaddr_storage& address);

}  // namespace warden
