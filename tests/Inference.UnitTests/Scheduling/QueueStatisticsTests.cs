using SegServe.Inference.Scheduling;

namespace SegServe.Inference.UnitTests.Scheduling;

public sealed class QueueStatisticsTests
{
    [Fact]
    public void Summaries_AreComputedFromTheRunsPerBatchSize()
    {
        // 3 runs of 1 and 2 runs of 3: 5 runs, 9 requests, 1.8 requests per run.
        var statistics = new QueueStatistics(0, 0, new Dictionary<string, long>(), [0, 3, 0, 2], 1.5, 4.0);

        Assert.Equal(5, statistics.Runs);
        Assert.Equal(1.8, statistics.MeanBatchSize, 12);
        Assert.Equal([(1, 3L), (3, 2L)], statistics.Distribution());
    }

    [Fact]
    public void BeforeTheFirstRun_TheMeanIsZero()
    {
        var statistics = new QueueStatistics(0, 0, new Dictionary<string, long>(), [0, 0, 0], 0, 0);

        Assert.Equal(0, statistics.Runs);
        Assert.Equal(0, statistics.MeanBatchSize);
        Assert.Empty(statistics.Distribution());
    }
}
