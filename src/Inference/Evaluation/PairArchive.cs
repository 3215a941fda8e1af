using System.IO.Compression;
using System.IO.Hashing;
using SegServe.Inference.Imaging;
using SegServe.Inference.Memory;

namespace SegServe.Inference.Evaluation;

/// <summary>One sample of an archive: its ground truth and its prediction (or image, for a run with a model).</summary>
/// <param name="Name">The file name both share, without extension.</param>
/// <param name="GroundTruth">The ground-truth label map's entry.</param>
/// <param name="Prediction">The predicted label map's entry, or the image's when <paramref name="IsImage"/>.</param>
/// <param name="IsImage">True when the model must predict <paramref name="Prediction"/>.</param>
public sealed record ArchivePair(string Name, ZipArchiveEntry GroundTruth, ZipArchiveEntry Prediction, bool IsImage);

/// <summary>
/// A zip of evaluation samples, paired by file name: <c>groundTruth/NAME.png</c> (or <c>gt</c>, <c>label(s)</c>,
/// <c>annotation(s)</c>) with <c>prediction/NAME.png</c> (or <c>predictions</c>, <c>pred</c>), or with
/// <c>images/NAME.*</c> when a model predicts. Every pair is checked before any is read; entries are then read one
/// pair at a time, each within the byte limit however large the archive says it is. An entry is accepted only whole:
/// encrypted entries, unsupported compression methods, damaged deflate streams, a size other than the one declared
/// and a CRC-32 mismatch are each an <see cref="EvaluationFault.UnreadableArchive"/> naming the entry.
/// </summary>
public sealed class PairArchive : IDisposable
{
    private readonly ZipArchive _zip;

    private PairArchive(ZipArchive zip, IReadOnlyList<ArchivePair> pairs)
    {
        _zip = zip;
        Pairs = pairs;
    }

    /// <summary>The pairs, in name order.</summary>
    public IReadOnlyList<ArchivePair> Pairs { get; }

    /// <summary>Opens the archive and pairs its files.</summary>
    /// <param name="archive">The zip file; it must outlive the archive.</param>
    /// <param name="imagesAllowed">True when a model can predict images in place of predictions.</param>
    /// <param name="maxPairs">Most pairs one archive may hold.</param>
    /// <exception cref="EvaluationInputException">Not a zip, more pairs than allowed, no ground truth, or files without a partner.</exception>
    public static PairArchive Open(ReadOnlyMemory<byte> archive, bool imagesAllowed, int maxPairs)
    {
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(ImageDecoder.AsStream(archive), ZipArchiveMode.Read);
        }
        catch (InvalidDataException ex)
        {
            throw new EvaluationInputException(EvaluationFault.UnreadableArchive, $"'archive' is not a readable zip file: {ex.Message}");
        }

        try
        {
            return new PairArchive(zip, Match(zip, imagesAllowed, maxPairs));
        }
        catch (InvalidDataException ex)
        {
            // The central directory is read when the entries are first listed.
            zip.Dispose();
            throw new EvaluationInputException(EvaluationFault.UnreadableArchive, $"'archive' is not a readable zip file: {ex.Message}");
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    /// <summary>Reads one entry into a pooled buffer, checked against the size and CRC-32 the archive declares.</summary>
    /// <exception cref="ImageRejectedException">The entry holds more than <paramref name="maxBytes"/>.</exception>
    /// <exception cref="EvaluationInputException">The entry is encrypted, cannot be decompressed, or is not what the archive declares.</exception>
    public static async Task<PooledBytes> ReadAsync(ZipArchiveEntry entry, string pairName, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        RefuseEncrypted(entry);
        PooledBytes bytes;
        try
        {
            Stream stream = await entry.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                bytes = await PooledBytes.ReadAsync(stream, maxBytes, cancellationToken).ConfigureAwait(false)
                    ?? throw new ImageRejectedException(ImageRejection.TooManyBytes, $"'{entry.FullName}' ({pairName}) in the archive is larger than the limit of {maxBytes} bytes.");
            }
        }
        catch (InvalidDataException ex)
        {
            throw new EvaluationInputException(EvaluationFault.UnreadableArchive, $"'{entry.FullName}' in the archive cannot be decompressed: {ex.Message}");
        }

        try
        {
            Verify(entry, bytes.Memory.Span);
            return bytes;
        }
        catch
        {
            bytes.Dispose();
            throw;
        }
    }

    public void Dispose() => _zip.Dispose();

    private static void RefuseEncrypted(ZipArchiveEntry entry)
    {
        if (entry.IsEncrypted)
        {
            throw new EvaluationInputException(EvaluationFault.UnreadableArchive, $"'{entry.FullName}' in the archive is encrypted; send the archive without a password.");
        }
    }

    /// <summary>The decompressed entry must have the length and CRC-32 its central directory record declares.</summary>
    private static void Verify(ZipArchiveEntry entry, ReadOnlySpan<byte> content)
    {
        if (content.Length != entry.Length)
        {
            throw new EvaluationInputException(
                EvaluationFault.UnreadableArchive,
                $"'{entry.FullName}' in the archive decompresses to {content.Length} bytes, not the {entry.Length} it declares: the archive is damaged.");
        }

        uint crc = Crc32.HashToUInt32(content);
        if (crc != entry.Crc32)
        {
            throw new EvaluationInputException(
                EvaluationFault.UnreadableArchive,
                $"'{entry.FullName}' in the archive fails its CRC-32 check (0x{crc:x8}, declared 0x{entry.Crc32:x8}): the archive is damaged.");
        }
    }

    private static List<ArchivePair> Match(ZipArchive zip, bool imagesAllowed, int maxPairs)
    {
        var truths = new SortedDictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
        var predictions = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
        var images = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
        foreach (ZipArchiveEntry entry in zip.Entries)
        {
            if (entry.FullName.EndsWith('/') || entry.Length == 0)
            {
                continue;
            }

            string[] parts = entry.FullName.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0)
            {
                continue;
            }

            string folder = parts.Length >= 2 ? parts[^2].ToLowerInvariant() : "";
            string stem = Path.GetFileNameWithoutExtension(parts[^1]);
            switch (folder)
            {
                case "groundtruth" or "gt" or "label" or "labels" or "annotation" or "annotations":
                    truths[stem] = entry;
                    break;
                case "prediction" or "predictions" or "pred":
                    predictions.TryAdd(stem, entry);
                    break;
                case "image" or "images":
                    images.TryAdd(stem, entry);
                    break;
            }
        }

        if (truths.Count == 0)
        {
            throw new EvaluationInputException(EvaluationFault.CannotScore, "The archive has no ground truth: put the label maps in a folder 'groundTruth/' (or gt, labels, annotations).");
        }

        if (truths.Count > maxPairs)
        {
            throw new EvaluationInputException(EvaluationFault.TooManyPairs, $"The archive holds {truths.Count} pairs; at most {maxPairs} per request.");
        }

        var pairs = new List<ArchivePair>(truths.Count);
        var unmatched = new List<string>();
        foreach ((string stem, ZipArchiveEntry truth) in truths)
        {
            RefuseEncrypted(truth);
            if (predictions.TryGetValue(stem, out ZipArchiveEntry? prediction))
            {
                RefuseEncrypted(prediction);
                pairs.Add(new ArchivePair(stem, truth, prediction, IsImage: false));
            }
            else if (imagesAllowed && images.TryGetValue(stem, out ZipArchiveEntry? image))
            {
                RefuseEncrypted(image);
                pairs.Add(new ArchivePair(stem, truth, image, IsImage: true));
            }
            else
            {
                unmatched.Add(stem);
            }
        }

        if (unmatched.Count > 0)
        {
            string which = imagesAllowed ? "'prediction/' or 'images/'" : "'prediction/'";
            throw new EvaluationInputException(
                EvaluationFault.CannotScore,
                $"{unmatched.Count} ground-truth files have no match by name in {which}: {string.Join(", ", unmatched.Take(5))}{(unmatched.Count > 5 ? ", …" : "")}.");
        }

        return pairs;
    }
}
