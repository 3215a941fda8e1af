using System.IO.Compression;
using SegServe.Inference.Evaluation;
using SegServe.Inference.Imaging;
using SegServe.Inference.Memory;

namespace SegServe.Inference.UnitTests.Evaluation;

/// <summary>Zips of evaluation samples: files paired by name across the folder names datasets use.</summary>
public sealed class PairArchiveTests
{
    [Fact]
    public void Pairs_AreMatchedByNameWithoutExtension_InNameOrder()
    {
        byte[] zip = Zip(("groundTruth/b.png", "gt-b"), ("labels/a.png", "gt-a"), ("prediction/a.png", "p-a"), ("predictions/b.PNG", "p-b"), ("notes/readme.txt", "x"), ("groundTruth/", ""));

        using PairArchive archive = PairArchive.Open(zip, imagesAllowed: false, maxPairs: 10);

        Assert.Equal(["a", "b"], archive.Pairs.Select(static p => p.Name));
        Assert.Equal(["labels/a.png", "groundTruth/b.png"], archive.Pairs.Select(static p => p.GroundTruth.FullName));
        Assert.All(archive.Pairs, static p => Assert.False(p.IsImage));
    }

    [Fact]
    public void Images_PairOnlyWhenAModelCanPredictThem()
    {
        byte[] zip = Zip(("gt/a.png", "gt"), ("images/a.jpg", "jpeg"));

        using PairArchive archive = PairArchive.Open(zip, imagesAllowed: true, maxPairs: 10);
        Assert.True(Assert.Single(archive.Pairs).IsImage);

        EvaluationInputException refused = Assert.Throws<EvaluationInputException>(() => PairArchive.Open(zip, imagesAllowed: false, maxPairs: 10));
        Assert.Equal(EvaluationFault.CannotScore, refused.Fault);
        Assert.Contains("1 ground-truth files have no match by name in 'prediction/': a.", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnmatchedFiles_AreNamed_FiveAtMost()
    {
        var entries = Enumerable.Range(0, 7).Select(static i => ($"gt/{i}.png", "x")).ToArray();
        EvaluationInputException refused = Assert.Throws<EvaluationInputException>(() => PairArchive.Open(Zip(entries), false, 10));
        Assert.Contains("7 ground-truth files have no match by name in 'prediction/': 0, 1, 2, 3, 4, …", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MorePairsThanAllowed_IsRefusedBeforeAnyIsRead()
    {
        byte[] zip = Zip(("gt/a.png", "1"), ("prediction/a.png", "1"), ("gt/b.png", "2"), ("prediction/b.png", "2"), ("gt/c.png", "3"), ("prediction/c.png", "3"));

        EvaluationInputException refused = Assert.Throws<EvaluationInputException>(() => PairArchive.Open(zip, false, maxPairs: 2));

        Assert.Equal(EvaluationFault.TooManyPairs, refused.Fault);
        Assert.Contains("3 pairs; at most 2", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoGroundTruth_AndNotAZip_AreRefused()
    {
        Assert.Equal(EvaluationFault.CannotScore, Assert.Throws<EvaluationInputException>(() => PairArchive.Open(Zip(("prediction/a.png", "x")), false, 10)).Fault);
        Assert.Equal(EvaluationFault.UnreadableArchive, Assert.Throws<EvaluationInputException>(() => PairArchive.Open("not a zip"u8.ToArray(), false, 10)).Fault);
    }

    [Fact]
    public async Task Entries_AreReadWithinTheByteLimit()
    {
        byte[] zip = Zip(("gt/a.png", new string('x', 100)), ("prediction/a.png", "small"));
        using PairArchive archive = PairArchive.Open(zip, false, 10);
        ArchivePair pair = Assert.Single(archive.Pairs);

        using PooledBytes small = await PairArchive.ReadAsync(pair.Prediction, pair.Name, 100, TestContext.Current.CancellationToken);
        Assert.Equal("small"u8.ToArray(), small.Memory.ToArray());
        using PooledBytes exact = await PairArchive.ReadAsync(pair.GroundTruth, pair.Name, 100, TestContext.Current.CancellationToken);
        Assert.Equal(100, exact.Length);
        ImageRejectedException tooLarge = await Assert.ThrowsAsync<ImageRejectedException>(() => PairArchive.ReadAsync(pair.GroundTruth, pair.Name, 99, TestContext.Current.CancellationToken));
        Assert.Equal(ImageRejection.TooManyBytes, tooLarge.Reason);
        Assert.Contains("gt/a.png", tooLarge.Message, StringComparison.Ordinal);
    }

    private static byte[] Zip(params (string Name, string Content)[] entries)
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach ((string name, string content) in entries)
            {
                ZipArchiveEntry entry = zip.CreateEntry(name);
                if (content.Length > 0)
                {
                    using var writer = new StreamWriter(entry.Open());
                    writer.Write(content);
                }
            }
        }

        return stream.ToArray();
    }
}
