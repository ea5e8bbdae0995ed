// What the HTTP library does not give a handler: the socket of the request's connection, to notice a client that
// went away (so its work is cancelled, also while it waits in the queue), and the API-key comparison.
#pragma once

#include <string>
#include <string_view>

namespace seek::server {

class ClientWatch {
 public:
  // Finds the connection's socket by its addresses (the 4-tuple of a live TCP connection is unique).
  ClientWatch(const std::string& remote_addr, int remote_port, int local_port);
  // True once the peer has closed or reset the connection. Never true when the socket was not found.
  bool gone() const;
  bool found() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Compares a presented key with the configured one in time that depends only on the configured key's length.
bool keys_equal(std::string_view presented, std::string_view expected);

// The key a request presents: "Authorization: Bearer K" or "X-Api-Key: K" (empty if neither).
std::string presented_key(std::string_view authorization, std::string_view x_api_key);

// Host-header check against DNS rebinding: a server bound to loopback answers only Host names that are loopback.
bool loopback_host_header(std::string_view host);
bool is_loopback_address(std::string_view host);

}  // namespace seek::server
