// How the registry reaches the backends: the hooks that core declares
// (src/core/device_hooks.hpp) and this layer implements.
#pragma once

#include "core/device_hooks.hpp"
