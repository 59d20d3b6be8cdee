#include "coordinator/service.h"

int main(int argc, char** argv) { return meadow::coordinator::run_cli(argc, argv); }
