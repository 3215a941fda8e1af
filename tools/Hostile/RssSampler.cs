using System.Diagnostics;
using System.Globalization;

namespace SegServe.Tools.Hostile;

/// <summary>Samples a process's resident set (VmRSS) and its high-water mark (VmHWM) from /proc every 100 ms.</summary>
public sealed class RssSampler : IAsyncDisposable
{
    private readonly int _pid;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<(double Seconds, long RssKb)> _timeline = [];
    private readonly Lock _gate = new();

    public RssSampler(int pid)
    {
        _pid = pid;
        _loop = Task.Run(LoopAsync);
    }

    public long PeakRssKb { get; private set; }

    public long HighWaterMarkKb { get; private set; }

    public long LastRssKb { get; private set; }

    public IReadOnlyList<(double Seconds, long RssKb)> Timeline
    {
        get
        {
            lock (_gate)
            {
                return [.. _timeline];
            }
        }
    }

    /// <summary>Reads VmRSS and VmHWM in kB; (0, 0) when the process is gone.</summary>
    public static (long RssKb, long HwmKb) Read(int pid)
    {
        try
        {
            long rss = 0, hwm = 0;
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = ParseKb(line);
                }
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    hwm = ParseKb(line);
                }
            }

            return (rss, hwm);
        }
        catch (IOException)
        {
            return (0, 0);
        }
    }

    private static long ParseKb(string line) =>
        long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture);

    private async Task LoopAsync()
    {
        double lastRecorded = -1;
        while (!_stop.IsCancellationRequested)
        {
            Sample(ref lastRecorded);
            try
            {
                await Task.Delay(100, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        Sample(ref lastRecorded);
    }

    private void Sample(ref double lastRecorded)
    {
        (long rss, long hwm) = Read(_pid);
        if (rss == 0)
        {
            return;
        }

        LastRssKb = rss;
        PeakRssKb = Math.Max(PeakRssKb, rss);
        HighWaterMarkKb = Math.Max(HighWaterMarkKb, hwm);
        double now = _clock.Elapsed.TotalSeconds;
        if (now - lastRecorded >= 1)
        {
            lock (_gate)
            {
                _timeline.Add((Math.Round(now, 1), rss));
            }

            lastRecorded = now;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
