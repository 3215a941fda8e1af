using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace SegServe.Benchmarks;

/// <summary>Short runs (these are milliseconds-scale operations) with median and ratio columns.</summary>
public sealed class StageConfig : ManualConfig
{
    public StageConfig()
    {
        AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(15));
        AddColumn(StatisticColumn.Median);
        HideColumns(Column.Error, Column.StdDev);
    }
}
