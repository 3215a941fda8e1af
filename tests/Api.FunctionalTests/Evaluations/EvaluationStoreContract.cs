using System.Runtime.InteropServices;
using System.Text;
using SegServe.Api.Evaluations;
using SegServe.Api.Problems;
using SegServe.Inference.Evaluation;

namespace SegServe.Api.FunctionalTests.Evaluations;

/// <summary>
/// What every evaluation store does, run against each of them (SQLite, and a real PostgreSQL server). Several store
/// instances on one database stand for several replicas of the service: what one publishes the others read, and the
/// quotas hold across all of them.
/// </summary>
public abstract class EvaluationStoreContract : IDisposable
{
    private const int Classes = 4;

    private readonly List<EvaluationStore> _stores = [];

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ARun_ReadsBackAsItWasCreated_AndAnUnknownIdIsNull()
    {
        EvaluationStore store = await StoreAsync();
        var created = new EvaluationRun(NewId(), "semantic", DateTimeOffset.UtcNow, Classes, 255, ["sky", "road", "car", "tree"], "espnet-camvid", "cityscapes", "alice");

        EvaluationRun stored = await store.CreateAsync(created, 10, Ct);
        EvaluationRun read = (await (await StoreAsync()).GetAsync(created.Id, Ct))!;

        Assert.Equal(stored.Created, read.Created);
        Assert.InRange((created.Created - read.Created).Duration(), TimeSpan.Zero, TimeSpan.FromMilliseconds(1));
        Assert.Equal(created.ClassNames, read.ClassNames);
        Assert.Equal(created with { Created = read.Created, ClassNames = read.ClassNames }, read);
        Assert.Null(await store.GetAsync(NewId(), Ct));
    }

    [Fact]
    public async Task StagedSamples_CountOnlyOncePublished_AllAtOnce_AndADiscardedBatchLeavesNothing()
    {
        EvaluationStore store = await StoreAsync();
        EvaluationRun run = await CreateRunAsync(store, "dave");
        string batch = NewId(), failed = NewId();
        foreach (string name in (string[])["a", "b", "c"])
        {
            await store.StageAsync(run.Id, batch, Sample(name, new Random(name[0])), Ct);
        }

        await store.StageAsync(run.Id, failed, Sample("d", new Random(4)), Ct);
        Assert.Equal(0, await store.CountSamplesAsync(run.Id, Ct));
        Assert.Empty((await store.LoadSamplesAsync(run, Ct)).Samples);

        Assert.Equal(3, await store.PublishAsync(run, batch, Unlimited, Ct));
        await store.DiscardAsync(failed, Ct);

        Assert.Equal(3, await (await StoreAsync()).CountSamplesAsync(run.Id, Ct));
        Assert.Equal(["a", "b", "c"], (await store.LoadSamplesAsync(run, Ct)).Samples.Select(static s => s.Name));
        Assert.Equal(0, await StagedRowsAsync());
    }

    [Fact]
    public async Task ARunsScores_AreTheSumOfItsSamplesCounts()
    {
        EvaluationStore store = await StoreAsync();
        EvaluationRun run = await CreateRunAsync(store, "erin");
        var expected = new SemanticAccumulator(Classes);
        var random = new Random(7);
        for (int b = 0; b < 3; b++)
        {
            string batch = NewId();
            for (int i = 0; i < 4; i++)
            {
                StoredSample sample = Sample($"{b}-{i}", random, expected);
                await store.StageAsync(run.Id, batch, sample, Ct);
            }

            await store.PublishAsync(run, batch, Unlimited, Ct);
        }

        (List<StoredSample> samples, SemanticAccumulator? sums) = await (await StoreAsync()).LoadSamplesAsync(run, Ct);

        Assert.Equal(12, samples.Count);
        Assert.Equal(expected.ToArray(), sums!.ToArray());
        Assert.All(samples, static s => Assert.Empty(s.Payload)); // summed as read, not kept
    }

    [Fact]
    public async Task InstanceSamples_KeepTheirPayloadsAndAp()
    {
        EvaluationStore store = await StoreAsync();
        EvaluationRun run = await store.CreateAsync(new EvaluationRun(NewId(), "instances", DateTimeOffset.UtcNow, 0, 0, null, null, null, "fay"), 10, Ct);
        byte[] payload = Encoding.UTF8.GetBytes("""{"images":[{"id":1,"height":2,"width":2}],"categories":[],"truth":[],"detections":[]}""");
        string batch = NewId();
        await store.StageAsync(run.Id, batch, new StoredSample("coco", 0, null, null, payload, 0.625), Ct);
        await store.PublishAsync(run, batch, Unlimited, Ct);

        (List<StoredSample> samples, SemanticAccumulator? sums) = await store.LoadSamplesAsync(run, Ct);

        Assert.Null(sums);
        StoredSample read = Assert.Single(samples);
        Assert.Equal(payload, read.Payload);
        Assert.Equal(0.625, read.Ap);
        Assert.Null(read.PixelAccuracy);
    }

    [Fact]
    public async Task CreatesPastTheRunQuota_FromSeveralReplicasAtOnce_OnlyFillIt()
    {
        EvaluationStore[] replicas = [await StoreAsync(), await StoreAsync(), await StoreAsync()];

        Task<EvaluationRun>[] creates = [.. Enumerable.Range(0, 12).Select(i => replicas[i % replicas.Length].CreateAsync(NewRun("gus"), 5, Ct))];
        await Task.WhenAll(creates.Select(static t => t.ContinueWith(static _ => { }, TaskScheduler.Default)));

        Assert.Equal(5, creates.Count(static t => t.IsCompletedSuccessfully));
        Assert.All(creates.Where(static t => !t.IsCompletedSuccessfully), static t => Assert.IsType<QuotaExceededException>(t.Exception!.InnerException));
        Assert.Equal(5, await replicas[0].CountRunsAsync("gus", Ct));
        await replicas[1].CreateAsync(NewRun("hal"), 5, Ct); // another owner's quota is its own
    }

    [Fact]
    public async Task PublishesPastTheSampleQuota_FromSeveralReplicasAtOnce_OnlyFillIt()
    {
        EvaluationStore[] replicas = [await StoreAsync(), await StoreAsync(), await StoreAsync()];
        EvaluationRun run = await CreateRunAsync(replicas[0], "ivy");
        string[] batches = [.. Enumerable.Range(0, 9).Select(static _ => NewId())];
        for (int i = 0; i < batches.Length; i++)
        {
            await replicas[i % replicas.Length].StageAsync(run.Id, batches[i], Sample($"s{i}", new Random(i)), Ct);
        }

        var quotas = new SampleQuotas(MaxSamplesPerRun: 4, MaxStoredBytesPerOwner: long.MaxValue);
        Task<int>[] publishes = [.. batches.Select((b, i) => replicas[i % replicas.Length].PublishAsync(run, b, quotas, Ct))];
        await Task.WhenAll(publishes.Select(static t => t.ContinueWith(static _ => { }, TaskScheduler.Default)));

        Assert.Equal(4, publishes.Count(static t => t.IsCompletedSuccessfully));
        Assert.Equal([1, 2, 3, 4], publishes.Where(static t => t.IsCompletedSuccessfully).Select(static t => t.Result).Order());
        Assert.All(publishes.Where(static t => !t.IsCompletedSuccessfully), static t => Assert.IsType<QuotaExceededException>(t.Exception!.InnerException));
        Assert.Equal(4, await replicas[2].CountSamplesAsync(run.Id, Ct));
    }

    [Fact]
    public async Task ThePerOwnerByteQuota_IsCheckedAtPublish_AndARefusedBatchAddsNothing()
    {
        EvaluationStore store = await StoreAsync();
        EvaluationRun first = await CreateRunAsync(store, "jo");
        EvaluationRun second = await CreateRunAsync(store, "jo");
        StoredSample sample = new("x", 1, 1, 1, new byte[1000]);
        var quotas = new SampleQuotas(100, MaxStoredBytesPerOwner: 1500);
        string a = NewId(), b = NewId();
        await store.StageAsync(first.Id, a, sample, Ct);
        await store.StageAsync(second.Id, b, sample, Ct);
        Assert.Equal(2002, await store.StoredBytesAsync("jo", Ct)); // staged bytes count while a request checks early

        await store.PublishAsync(first, a, quotas, Ct);
        await Assert.ThrowsAsync<QuotaExceededException>(() => store.PublishAsync(second, b, quotas, Ct));

        Assert.Equal(0, await store.CountSamplesAsync(second.Id, Ct));
        Assert.Equal(1, await store.CountSamplesAsync(first.Id, Ct));
    }

    [Fact]
    public async Task Delete_RemovesTheRunAndAllItsSamples_IfItExists()
    {
        EvaluationStore store = await StoreAsync();
        EvaluationRun run = await CreateRunAsync(store, "kim");
        string published = NewId(), staged = NewId();
        await store.StageAsync(run.Id, published, Sample("p", new Random(1)), Ct);
        await store.PublishAsync(run, published, Unlimited, Ct);
        await store.StageAsync(run.Id, staged, Sample("s", new Random(2)), Ct);

        Assert.True(await (await StoreAsync()).DeleteAsync(run.Id, Ct));

        Assert.Null(await store.GetAsync(run.Id, Ct));
        Assert.Equal(0, await store.StoredBytesAsync("kim", Ct));
        Assert.Equal(0, await StagedRowsAsync());
        Assert.False(await store.DeleteAsync(run.Id, Ct));

        // A request that was scoring when the run went away adds nothing: its stage or its publish says so.
        string late = NewId();
        await Assert.ThrowsAsync<EvaluationRunNotFoundException>(async () =>
        {
            await store.StageAsync(run.Id, late, Sample("late", new Random(3)), Ct);
            await store.PublishAsync(run, late, Unlimited, Ct);
        });
        await store.DiscardAsync(late, Ct);
        Assert.Equal(0, await store.CountSamplesAsync(run.Id, Ct));
    }

    [Fact]
    public async Task ADatabaseOfTheFirstVersion_IsUpgraded_AndItsRowsStillRead()
    {
        var legacy = new SemanticAccumulator(2);
        legacy.Confusion[0] = 5;
        legacy.Confusion[3] = 7;
        legacy.BoundaryUnion[1] = 2;
        await CreateFirstVersionAsync("old", MemoryMarshal.AsBytes(legacy.ToArray().AsSpan()).ToArray());

        EvaluationStore store = await StoreAsync();
        EvaluationRun run = (await store.GetAsync("old", Ct))!;

        Assert.Equal(("semantic", 2, "anonymous"), (run.Task, run.NumClasses, run.Owner));
        Assert.Equal(new DateTimeOffset(2026, 11, 20, 0, 0, 0, TimeSpan.Zero), run.Created);
        (List<StoredSample> samples, SemanticAccumulator? sums) = await store.LoadSamplesAsync(run, Ct);
        Assert.Equal("a", Assert.Single(samples).Name);
        Assert.Equal(legacy.ToArray(), sums!.ToArray());
        Assert.Equal(2, await SchemaVersionAsync());

        // The upgraded run takes new (sparse, staged) samples beside its old dense one.
        var added = new SemanticAccumulator(2);
        added.Confusion[1] = 4;
        string batch = NewId();
        await store.StageAsync(run.Id, batch, new StoredSample("b", 4, 0, 0, added.ToSparse()), Ct);
        Assert.Equal(2, await store.PublishAsync(run, batch, Unlimited, Ct));
        legacy.Add(added);
        Assert.Equal(legacy.ToArray(), (await store.LoadSamplesAsync(run, Ct)).Sums!.ToArray());
    }

    [Fact]
    public async Task ReplicasStartingTogether_MigrateOnce()
    {
        EvaluationStore[] replicas = [await StoreAsync(), await StoreAsync(), await StoreAsync(), await StoreAsync()];

        await Task.WhenAll(replicas.Select(static r => r.CheckAsync(Ct)));

        Assert.Equal(2, await SchemaVersionAsync());
        await replicas[3].CreateAsync(NewRun("lee"), 1, Ct);
    }

    [Fact]
    public async Task StagedRowsAnHourOld_AreRemovedWhenAStoreStarts_YoungerOnesKept()
    {
        var clock = new SettableClock(DateTimeOffset.UtcNow - TimeSpan.FromHours(2));
        EvaluationStore dead = await StoreAsync(clock);
        EvaluationRun run = await CreateRunAsync(dead, "max");
        await dead.StageAsync(run.Id, NewId(), Sample("abandoned", new Random(1)), Ct);
        clock.Now = DateTimeOffset.UtcNow - TimeSpan.FromMinutes(10);
        await dead.StageAsync(run.Id, NewId(), Sample("in flight", new Random(2)), Ct);

        await (await StoreAsync()).CheckAsync(Ct);

        Assert.Equal(1, await StagedRowsAsync());
    }

    public void Dispose()
    {
        foreach (EvaluationStore store in _stores)
        {
            store.Dispose();
        }

        DisposeDatabase();
        GC.SuppressFinalize(this);
    }

    /// <summary>A new store instance on this test's database (each one stands for a replica of the service).</summary>
    protected abstract Task<EvaluationStore> OpenStoreAsync(TimeProvider time);

    /// <summary>Writes the first version's schema by hand, as a build of that version did, with one run 'old' and its dense sample 'a'.</summary>
    protected abstract Task CreateFirstVersionAsync(string runId, byte[] denseSums);

    /// <summary>The schema version the database records.</summary>
    protected abstract Task<long> SchemaVersionAsync();

    /// <summary>How many staged (unpublished) sample rows the database holds.</summary>
    protected abstract Task<long> StagedRowsAsync();

    /// <summary>Removes this test's database.</summary>
    protected abstract void DisposeDatabase();

    private static SampleQuotas Unlimited => new(int.MaxValue, long.MaxValue);

    private static string NewId() => Guid.NewGuid().ToString("N");

    private static EvaluationRun NewRun(string owner) => new(NewId(), "semantic", DateTimeOffset.UtcNow, Classes, 255, null, null, null, owner);

    private static Task<EvaluationRun> CreateRunAsync(EvaluationStore store, string owner) => store.CreateAsync(NewRun(owner), 1000, Ct);

    /// <summary>A semantic sample of random counts, added to <paramref name="total"/> when given.</summary>
    private static StoredSample Sample(string name, Random random, SemanticAccumulator? total = null)
    {
        var sums = new SemanticAccumulator(Classes);
        for (int i = 0; i < sums.Confusion.Length; i++)
        {
            sums.Confusion[i] = random.Next(0, 3) == 0 ? 0 : random.Next(1, 1 << 20);
        }

        sums.BoundaryIntersection[random.Next(Classes)] = random.Next(1, 100);
        sums.BoundaryUnion[random.Next(Classes)] = random.Next(100, 200);
        total?.Add(sums);
        SemanticScores scores = SemanticScores.From(sums);
        return new StoredSample(name, scores.Pixels, scores.PixelAccuracy, scores.MeanIou, sums.ToSparse());
    }

    private async Task<EvaluationStore> StoreAsync(TimeProvider? time = null)
    {
        EvaluationStore store = await OpenStoreAsync(time ?? TimeProvider.System);
        _stores.Add(store);
        return store;
    }

    private sealed class SettableClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
