using System.Diagnostics;

namespace SegServe.Api.FunctionalTests.Infrastructure;

/// <summary>
/// A real Prometheus (the Debian package's binary; <c>.ci/run</c> installs it) started on a loopback port with a given
/// configuration and its own storage folder; its output is read and dropped so that it never blocks on a full pipe.
/// </summary>
internal static class PrometheusProcess
{
    public const string Binary = "/usr/bin/prometheus";

    public static Process Start(string configFile, string storageFolder, int port)
    {
        Process prometheus = Process.Start(new ProcessStartInfo(Binary)
        {
            ArgumentList =
            {
                $"--config.file={configFile}",
                $"--storage.tsdb.path={storageFolder}",
                $"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        prometheus.OutputDataReceived += static (_, _) => { };
        prometheus.ErrorDataReceived += static (_, _) => { };
        prometheus.BeginOutputReadLine();
        prometheus.BeginErrorReadLine();
        return prometheus;
    }
}
