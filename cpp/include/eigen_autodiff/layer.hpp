// Kept so that includes written before the headers were grouped by role keep working.
#pragma once

#include "eigen_autodiff/article/layer.hpp"
