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

    [Theory]
    [InlineData(CompressionLevel.NoCompression)]
    [InlineData(CompressionLevel.Optimal)]
    public async Task AnEntryFailingItsCrc_IsRefused_Named(CompressionLevel level)
    {
        byte[] zip = Zip(level, ("gt/a.png", "ground truth bytes"), ("prediction/a.png", "prediction bytes"));
        // The CRC-32 of the second entry, in its local header (offset 14) and central directory record (offset 16).
        Patch(zip, LocalHeader, 1, 14, static (z, at) => z[at] ^= 0xff);
        Patch(zip, CentralRecord, 1, 16, static (z, at) => z[at] ^= 0xff);
        using PairArchive archive = PairArchive.Open(zip, false, 10);
        ArchivePair pair = Assert.Single(archive.Pairs);

        using (await PairArchive.ReadAsync(pair.GroundTruth, pair.Name, 1000, TestContext.Current.CancellationToken))
        {
        }

        EvaluationInputException refused = await Assert.ThrowsAsync<EvaluationInputException>(() => PairArchive.ReadAsync(pair.Prediction, pair.Name, 1000, TestContext.Current.CancellationToken));
        Assert.Equal(EvaluationFault.UnreadableArchive, refused.Fault);
        Assert.Contains("'prediction/a.png'", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEncryptedEntry_IsRefusedWhenTheArchiveIsOpened_Named()
    {
        byte[] zip = Zip(CompressionLevel.NoCompression, ("gt/a.png", "ground truth"), ("prediction/a.png", "prediction"));
        // General-purpose flag bit 0 (encrypted): local header offset 6, central directory record offset 8.
        Patch(zip, LocalHeader, 0, 6, static (z, at) => z[at] |= 1);
        Patch(zip, CentralRecord, 0, 8, static (z, at) => z[at] |= 1);

        EvaluationInputException refused = Assert.Throws<EvaluationInputException>(() => PairArchive.Open(zip, false, 10));

        Assert.Equal(EvaluationFault.UnreadableArchive, refused.Fault);
        Assert.Contains("'gt/a.png' in the archive is encrypted", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnsupportedCompressionMethod_IsRefused_Named()
    {
        byte[] zip = Zip(CompressionLevel.NoCompression, ("gt/a.png", "ground truth"), ("prediction/a.png", "prediction"));
        // Method 14 (LZMA): local header offset 8, central directory record offset 10.
        Patch(zip, LocalHeader, 0, 8, static (z, at) => z[at] = 14);
        Patch(zip, CentralRecord, 0, 10, static (z, at) => z[at] = 14);
        using PairArchive archive = PairArchive.Open(zip, false, 10);
        ArchivePair pair = Assert.Single(archive.Pairs);

        EvaluationInputException refused = await Assert.ThrowsAsync<EvaluationInputException>(() => PairArchive.ReadAsync(pair.GroundTruth, pair.Name, 1000, TestContext.Current.CancellationToken));

        Assert.Equal(EvaluationFault.UnreadableArchive, refused.Fault);
        Assert.Contains("'gt/a.png'", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACorruptDeflateStream_IsRefused_Named()
    {
        byte[] zip = Zip(CompressionLevel.Optimal, ("gt/a.png", new string('a', 300) + "b"), ("prediction/a.png", "p"));
        // The first entry's data follows its 30-byte header and 'gt/a.png': a reserved block type (11) is invalid deflate.
        Patch(zip, LocalHeader, 0, 30 + "gt/a.png".Length, static (z, at) => z[at] = 0x07);
        using PairArchive archive = PairArchive.Open(zip, false, 10);
        ArchivePair pair = Assert.Single(archive.Pairs);

        EvaluationInputException refused = await Assert.ThrowsAsync<EvaluationInputException>(() => PairArchive.ReadAsync(pair.GroundTruth, pair.Name, 1000, TestContext.Current.CancellationToken));

        Assert.Equal(EvaluationFault.UnreadableArchive, refused.Fault);
        Assert.Contains("'gt/a.png'", refused.Message, StringComparison.Ordinal);
    }

    private static readonly byte[] LocalHeader = [0x50, 0x4b, 0x03, 0x04];
    private static readonly byte[] CentralRecord = [0x50, 0x4b, 0x01, 0x02];

    /// <summary>Applies <paramref name="patch"/> at <paramref name="offset"/> into the <paramref name="occurrence"/>th record with <paramref name="signature"/>.</summary>
    private static void Patch(byte[] zip, byte[] signature, int occurrence, int offset, Action<byte[], int> patch)
    {
        int at = -1;
        for (int i = 0; i <= occurrence; i++)
        {
            at = zip.AsSpan(at + 1).IndexOf(signature) + at + 1;
        }

        patch(zip, at + offset);
    }

    private static byte[] Zip(CompressionLevel level, params (string Name, string Content)[] entries)
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach ((string name, string content) in entries)
            {
                using var writer = new StreamWriter(zip.CreateEntry(name, level).Open());
                writer.Write(content);
            }
        }

        return stream.ToArray();
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
