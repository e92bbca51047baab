#include "normalizer_group.h"

#include <map>

namespace gms {

namespace {

// The registry holds weak references: a group dies with its last holder.
struct Registry {
  std::mutex mutex;  // protects groups; never held while a group is destroyed
  std::map<std::string, std::weak_ptr<NormalizerGroup>> groups;
};

Registry& registry() {
  static auto* r = new Registry();  // never destroyed: groups may die during exit
  return *r;
}

}  // namespace

std::shared_ptr<NormalizerGroup> NormalizerGroup::acquire(const std::string& name) {
  if (name.empty())
    return std::make_shared<NormalizerGroup>(name);

  Registry& reg = registry();
  std::lock_guard lock(reg.mutex);
  auto& slot = reg.groups[name];
  if (auto alive = slot.lock())
    return alive;
  // The deleter drops the registry entry unless a new group has taken the
  // name meanwhile; the group itself is deleted outside the registry lock.
  std::shared_ptr<NormalizerGroup> group(new NormalizerGroup(name), [](NormalizerGroup* g) {
    {
      Registry& r = registry();
      std::lock_guard l(r.mutex);
      auto it = r.groups.find(g->name());
      if (it != r.groups.end() && it->second.expired())
        r.groups.erase(it);
    }
    delete g;
  });
  slot = group;
  return group;
}

size_t NormalizerGroup::registered_count() {
  Registry& reg = registry();
  std::lock_guard lock(reg.mutex);
  size_t n = 0;
  for (const auto& [name, weak] : reg.groups)
    n += weak.expired() ? 0 : 1;
  return n;
}

Normalizer::TrackId NormalizerGroup::add_track() {
  std::lock_guard lock(mutex_);
  return normalizer_.add_track();
}

void NormalizerGroup::remove_track(Normalizer::TrackId id) {
  std::lock_guard lock(mutex_);
  normalizer_.remove_track(id);
}

Decision NormalizerGroup::push(Normalizer::TrackId id, const TimestampIn& in, const NormalizerSettings& s,
                               const RtpIn* rtp) {
  std::lock_guard lock(mutex_);
  return normalizer_.push(id, in, s, rtp);
}

void NormalizerGroup::flush(Normalizer::TrackId id, bool reset_time) {
  std::lock_guard lock(mutex_);
  normalizer_.flush(id, reset_time);
}

GstClockTime NormalizerGroup::peek(Normalizer::TrackId id, GstClockTime in) const {
  std::lock_guard lock(mutex_);
  return normalizer_.peek(id, in);
}

GstClockTime NormalizerGroup::to_input(Normalizer::TrackId id, GstClockTime out) const {
  std::lock_guard lock(mutex_);
  return normalizer_.to_input(id, out);
}

guint64 NormalizerGroup::reanchors() const {
  std::lock_guard lock(mutex_);
  return normalizer_.reanchors();
}

}  // namespace gms
