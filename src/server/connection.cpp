// Socket lookup and disconnect detection; constant-time key comparison; Host-header checks.
#include "server/connection.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace seek::server {

namespace {

bool address_of(const sockaddr_storage& sa, socklen_t len, std::string& ip, int& port) {
  char host[NI_MAXHOST];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&sa), len, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0)
    return false;
  ip = host;
  if (sa.ss_family == AF_INET) port = ntohs(reinterpret_cast<const sockaddr_in*>(&sa)->sin_port);
  else if (sa.ss_family == AF_INET6) port = ntohs(reinterpret_cast<const sockaddr_in6*>(&sa)->sin6_port);
  else return false;
  return true;
}

}  // namespace

ClientWatch::ClientWatch(const std::string& remote_addr, int remote_port, int local_port) {
  DIR* d = opendir("/proc/self/fd");
  if (!d) return;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end || fd < 0) continue;
    struct stat st;
    if (fstat(int(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage local{}, peer{};
    socklen_t ll = sizeof local, pl = sizeof peer;
    if (getsockname(int(fd), reinterpret_cast<sockaddr*>(&local), &ll) != 0) continue;
    if (getpeername(int(fd), reinterpret_cast<sockaddr*>(&peer), &pl) != 0) continue;
    std::string lip, pip;
    int lport = -1, pport = -1;
    if (!address_of(local, ll, lip, lport) || !address_of(peer, pl, pip, pport)) continue;
    if (lport == local_port && pport == remote_port && pip == remote_addr) {
      fd_ = int(fd);
      break;
    }
  }
  closedir(d);
}

bool ClientWatch::gone() const {
  if (fd_ < 0) return false;
  pollfd p{fd_, short(POLLIN | POLLRDHUP), 0};
  if (poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) return true;
  if (p.revents & POLLIN) {
    char c;
    const ssize_t n = recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0;  // orderly shutdown; n > 0 is a pipelined request, not a departure
  }
  return false;
}

bool keys_equal(std::string_view presented, std::string_view expected) {
  // Every byte of the expected key is compared, whatever the presented key's length or content.
  unsigned diff = presented.size() == expected.size() ? 0u : 1u;
  for (size_t i = 0; i < expected.size(); ++i) {
    const unsigned char p = i < presented.size() ? static_cast<unsigned char>(presented[i]) : 0;
    diff |= p ^ static_cast<unsigned char>(expected[i]);
  }
  return diff == 0;
}

std::string presented_key(std::string_view authorization, std::string_view x_api_key) {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() > kBearer.size() && strncasecmp(authorization.data(), "bearer ", kBearer.size()) == 0) {
    std::string_view k = authorization.substr(kBearer.size());
    while (!k.empty() && k.front() == ' ') k.remove_prefix(1);
    while (!k.empty() && k.back() == ' ') k.remove_suffix(1);
    return std::string(k);
  }
  return std::string(x_api_key);
}

bool is_loopback_address(std::string_view h) {
  return h == "localhost" || h == "::1" || h == "[::1]" || h.substr(0, 4) == "127.";
}

bool loopback_host_header(std::string_view host) {
  std::string_view name = host;
  if (!name.empty() && name.front() == '[') {
    const size_t close = name.find(']');
    if (close == std::string_view::npos) return false;
    name = name.substr(0, close + 1);
  } else if (const size_t colon = name.rfind(':'); colon != std::string_view::npos) {
    name = name.substr(0, colon);
  }
  if (name == "localhost" || name == "[::1]") return true;
  // 127.x.y.z, digits and dots only.
  if (name.substr(0, 4) != "127.") return false;
  for (char c : name)
    if (!(c == '.' || (c >= '0' && c <= '9'))) return false;
  return true;
}

}  // namespace seek::server
