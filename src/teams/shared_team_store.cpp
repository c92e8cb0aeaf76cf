// One team store behind several team caches on different threads (see teams.hpp).
#include <warden/teams.hpp>

#include <utility>

namespace warden {

// What one cache sees: the shared store, with change notifications of its own.
class SharedTeamStore::View final : public TeamStore {
public:
    View(SharedTeamStore& shared, size_t index) : shared_(shared), index_(index) {}

    FetchResult fetch(const TeamQuery& query) override {
        std::lock_guard lock(shared_.mutex_);
        return shared_.store_.fetch(query);
    }
    FetchResult check() override {
        std::lock_guard lock(shared_.mutex_);
        return shared_.store_.check();
    }
    Invalidations poll_invalidations() override {
        std::lock_guard lock(shared_.mutex_);
        // Whatever the store tells one view, every view is told.
        const Invalidations news = shared_.store_.poll_invalidations();
        std::lock_guard pending_lock(shared_.pending_mutex_);
        shared_.add_pending(news);
        return std::exchange(shared_.pending_[index_], {});
    }

private:
    SharedTeamStore& shared_;
    size_t index_;
};

SharedTeamStore::SharedTeamStore(TeamStore& store, size_t views) : store_(store), pending_(views) {
    for (size_t i = 0; i < views; ++i) views_.push_back(std::make_unique<View>(*this, i));
}

SharedTeamStore::~SharedTeamStore() = default;

TeamStore& SharedTeamStore::view(size_t index) { return *views_.at(index); }

void SharedTeamStore::invalidate(const TeamStore::Invalidations& changes) {
    // Not mutex_: a store call in progress (a slow query) must not hold up the caller.
    std::lock_guard lock(pending_mutex_);
    add_pending(changes);
}

void SharedTeamStore::add_pending(const TeamStore::Invalidations& news) {
    for (TeamStore::Invalidations& pending : pending_) {
        pending.everything = pending.everything || news.everything;
        pending.team_ids.insert(pending.team_ids.end(), news.team_ids.begin(), news.team_ids.end());
        // A view that seldom polls (an idle member of `run --threads`) would otherwise keep
        // every change forever; past what a cache reloads one by one, it forgets everything.
        if (pending.team_ids.size() > TeamCache::max_pending_reloads) pending.everything = true;
        if (pending.everything) pending.team_ids = {};  // forgetting everything covers them
    }
}

}  // namespace warden
