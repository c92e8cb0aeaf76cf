// /metrics, /healthz and /readyz over civetweb.
#include <warden/log.hpp>
#include <warden/ops.hpp>

#include <CivetServer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace warden {
namespace {

void respond(mg_connection* conn, int status, const char* content_type, const std::string& body) {
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
              "Connection: close\r\n\r\n",
              status, status == 200 ? "OK" : "Service Unavailable", content_type, body.size());
    mg_write(conn, body.data(), body.size());
}

// The reason may quote a dependency's error (a table name in quotes, a broker's address): written
// as JSON, and redacted like a log line.
std::string health_json(bool ok, const std::string& reason) {
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer> json(out);
    json.StartObject();
    json.Key("status");
    json.String(ok ? "ok" : "unavailable");
    if (!reason.empty()) {
        const std::string redacted = log::redact(reason);
        json.Key("reason");
        json.String(redacted.data(), static_cast<rapidjson::SizeType>(redacted.size()));
    }
    json.EndObject();
    return std::string(out.GetString(), out.GetSize()) + "\n";
}

class Endpoint : public CivetHandler {
public:
    using Render = std::function<std::pair<int, std::string>()>;
    Endpoint(const char* content_type, Render render) : content_type_(content_type), render_(std::move(render)) {}
    bool handleGet(CivetServer*, mg_connection* conn) override {
        auto [status, body] = render_();
        respond(conn, status, content_type_, body);
        return true;
    }

private:
    const char* content_type_;
    Render render_;
};

// Opens and closes a TCP connection to host:port, ignoring failures.
void poke(const std::string& host, int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) == 1) {
        (void)::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    }
    ::close(fd);
}

}  // namespace

class OpsServer::Impl {
public:
    Impl(const std::string& address, StatsSource stats, MetricsContext context)
        : stats_(std::move(stats)),
          context_(std::move(context)),
          metrics_("text/plain; version=0.0.4; charset=utf-8",
                   [this] { return std::pair{200, render_metrics(stats_(), context_)}; }),
          healthz_("application/json",
                   [this] {
                       const Health h = evaluate_health(stats_(), std::chrono::steady_clock::now(), context_.health);
                       return std::pair{h.live ? 200 : 503, health_json(h.live, h.live ? "" : h.reason)};
                   }),
          readyz_("application/json", [this] {
              const Health h = evaluate_health(stats_(), std::chrono::steady_clock::now(), context_.health);
              return std::pair{h.ready ? 200 : 503, health_json(h.ready, h.reason)};
          }) {
        const std::vector<std::string> options = {"listening_ports", address, "num_threads", "2",
                                                  "request_timeout_ms", "5000"};
        try {
            server_ = std::make_unique<CivetServer>(options);
        } catch (const CivetException& e) {
            throw std::runtime_error("cannot serve metrics on " + address + ": " + e.what() +
                                     " (set --metrics-address to a free host:port, or 'off')");
        }
        server_->addHandler("/metrics", metrics_);
        server_->addHandler("/healthz", healthz_);
        server_->addHandler("/readyz", readyz_);
        const std::vector<int> ports = server_->getListeningPorts();
        port_ = ports.empty() ? 0 : ports.front();
        const std::string host = address.substr(0, address.rfind(':'));
        if (!host.empty() && host != "0.0.0.0" && host.find(':') == std::string::npos) wake_host_ = host;
        log::info("serving /metrics, /healthz and /readyz", {{"address", address}, {"port", std::to_string(port_)}});
    }

    ~Impl() {
        if (!server_) return;
        // civetweb's listener notices the stop only at its next poll (every 2 s); a connection
        // wakes it at once, so shutting down does not add seconds to the drain deadline.
        std::thread waker([host = wake_host_, port = port_] {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            poke(host, port);
        });
        server_->close();
        waker.join();
    }

    int port() const { return port_; }

private:
    StatsSource stats_;
    MetricsContext context_;
    Endpoint metrics_, healthz_, readyz_;
    std::unique_ptr<CivetServer> server_;
    int port_ = 0;
    std::string wake_host_ = "127.0.0.1";
};

OpsServer::OpsServer(const std::string& address, StatsSource stats, MetricsContext context)
    : impl_(std::make_unique<Impl>(address, std::move(stats), std::move(context))) {}
OpsServer::~OpsServer() = default;
int OpsServer::port() const { return impl_->port(); }

}  // namespace warden
