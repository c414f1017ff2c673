// A build without MPI (TABULA_MPI=OFF, or no MPI found): one process only, and a clear reason
// where more ranks are asked for.
#include "tabula/distributed/communicator.hpp"

namespace tabula {

bool built_with_mpi() { return false; }

Communicator& world_communicator() {
  throw DistributedError(
      "--distributed: this tabula was built without MPI; install an MPI (Debian: libopenmpi-dev "
      "openmpi-bin) and rebuild with -DTABULA_MPI=ON");
}

}  // namespace tabula
