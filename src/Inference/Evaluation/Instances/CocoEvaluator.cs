using SegServe.Inference.Masks;

namespace SegServe.Inference.Evaluation.Instances;

/// <summary>A ground-truth instance.</summary>
/// <param name="Id">Annotation id (positive).</param>
/// <param name="ImageId">Image id.</param>
/// <param name="CategoryId">Category id.</param>
/// <param name="Mask">The mask.</param>
/// <param name="Area">Area used for the small/medium/large ranges (the annotation's <c>area</c>, as COCOeval).</param>
/// <param name="IsCrowd">A crowd region: detections on it are neither right nor wrong.</param>
public sealed record GroundTruthInstance(long Id, long ImageId, long CategoryId, CocoRle Mask, double Area, bool IsCrowd);

/// <summary>A detected instance.</summary>
/// <param name="ImageId">Image id.</param>
/// <param name="CategoryId">Category id.</param>
/// <param name="Mask">The mask.</param>
/// <param name="Score">Confidence.</param>
public sealed record DetectedInstance(long ImageId, long CategoryId, CocoRle Mask, double Score);

/// <summary>The twelve COCO summary numbers (null where COCOeval prints −1: no ground truth in that setting), and AP per category.</summary>
public sealed record CocoScores(
    double? Ap,
    double? Ap50,
    double? Ap75,
    double? ApSmall,
    double? ApMedium,
    double? ApLarge,
    double? Ar1,
    double? Ar10,
    double? Ar100,
    double? ArSmall,
    double? ArMedium,
    double? ArLarge,
    IReadOnlyDictionary<long, double?> ApByCategory,
    int Images,
    int GroundTruthInstances,
    int Detections);

/// <summary>
/// COCO mask AP exactly as pycocotools' <c>COCOeval(iouType="segm")</c>: IoU thresholds 0.50:0.05:0.95, 101-point
/// interpolated precision, maxDets 1/10/100, area ranges all/small/medium/large, greedy matching by score with crowd
/// ground truth matchable many times and its detections ignored.
/// </summary>
public static class CocoEvaluator
{
    /// <summary>numpy.spacing(1): the distance from 1 to the next double, COCOeval's guard against 0/0.</summary>
    private static readonly double s_spacing = Math.BitIncrement(1.0) - 1.0;
    private static readonly double[] s_iouThresholds = Linspace(0.5, 0.95, 10);
    private static readonly double[] s_recallThresholds = Linspace(0.0, 1.0, 101);
    private static readonly int[] s_maxDets = [1, 10, 100];
    private static readonly (double Low, double High)[] s_areas = [(0, 1e10), (0, 32 * 32), (32 * 32, 96 * 96), (96 * 96, 1e10)];
    private static readonly ImageEvaluation?[] s_nothing = new ImageEvaluation?[s_areas.Length];

    /// <summary>Scores <paramref name="detections"/> against <paramref name="truth"/> over <paramref name="imageIds"/> and <paramref name="categoryIds"/>.</summary>
    public static CocoScores Evaluate(
        IReadOnlyList<GroundTruthInstance> truth,
        IReadOnlyList<DetectedInstance> detections,
        IReadOnlyList<long> imageIds,
        IReadOnlyList<long> categoryIds)
    {
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(detections);
        ArgumentNullException.ThrowIfNull(imageIds);
        ArgumentNullException.ThrowIfNull(categoryIds);

        var truthBy = new Dictionary<(long, long), List<GroundTruthInstance>>();
        foreach (GroundTruthInstance g in truth)
        {
            Group(truthBy, (g.ImageId, g.CategoryId)).Add(g);
        }

        var detectionsBy = new Dictionary<(long, long), List<(DetectedInstance D, long Id)>>();
        for (int i = 0; i < detections.Count; i++)
        {
            DetectedInstance d = detections[i];
            Group(detectionsBy, (d.ImageId, d.CategoryId)).Add((d, i + 1));
        }

        int t = s_iouThresholds.Length;
        int r = s_recallThresholds.Length;
        int k = categoryIds.Count;
        int a = s_areas.Length;
        int m = s_maxDets.Length;
        var precision = new double[t, r, k, a, m];
        var recall = new double[t, k, a, m];
        Fill(precision, -1);
        Fill(recall, -1);

        for (int ki = 0; ki < k; ki++)
        {
            // Per image: IoUs once (detections by score, at most 100), then the matching per area range.
            var perImage = new List<ImageEvaluation?[]>(imageIds.Count);
            foreach (long imageId in imageIds)
            {
                List<GroundTruthInstance>? truthHere = truthBy.GetValueOrDefault((imageId, categoryIds[ki]));
                List<(DetectedInstance D, long Id)>? detectionsHere = detectionsBy.GetValueOrDefault((imageId, categoryIds[ki]));
                if (truthHere is null && detectionsHere is null)
                {
                    // Nothing of this category on this image (most cells of a large file): nothing to evaluate or allocate.
                    perImage.Add(s_nothing);
                    continue;
                }

                List<GroundTruthInstance> g = truthHere ?? [];
                List<(DetectedInstance D, long Id)> d = detectionsHere ?? [];
                var sorted = d.Select((x, i) => (x, i)).OrderBy(p => -p.x.D.Score).ThenBy(p => p.i).Select(p => p.x).Take(s_maxDets[^1]).ToList();
                double[,] ious = new double[sorted.Count, g.Count];
                for (int di = 0; di < sorted.Count; di++)
                {
                    for (int gi = 0; gi < g.Count; gi++)
                    {
                        ious[di, gi] = CocoRle.Iou(sorted[di].D.Mask, g[gi].Mask, g[gi].IsCrowd);
                    }
                }

                var byArea = new ImageEvaluation?[a];
                for (int ai = 0; ai < a; ai++)
                {
                    byArea[ai] = EvaluateImage(g, sorted, ious, s_areas[ai], s_maxDets[^1]);
                }

                perImage.Add(byArea);
            }

            for (int ai = 0; ai < a; ai++)
            {
                for (int mi = 0; mi < m; mi++)
                {
                    Accumulate(perImage, ai, s_maxDets[mi], precision, recall, ki, mi);
                }
            }
        }

        var apByCategory = new Dictionary<long, double?>();
        for (int ki = 0; ki < k; ki++)
        {
            apByCategory[categoryIds[ki]] = MeanOf(precision, ti => true, ki, 0, 2);
        }

        return new CocoScores(
            Ap: SummarizePrecision(precision, null, 0),
            Ap50: SummarizePrecision(precision, 0, 0),
            Ap75: SummarizePrecision(precision, 5, 0),
            ApSmall: SummarizePrecision(precision, null, 1),
            ApMedium: SummarizePrecision(precision, null, 2),
            ApLarge: SummarizePrecision(precision, null, 3),
            Ar1: SummarizeRecall(recall, 0, 0),
            Ar10: SummarizeRecall(recall, 0, 1),
            Ar100: SummarizeRecall(recall, 0, 2),
            ArSmall: SummarizeRecall(recall, 1, 2),
            ArMedium: SummarizeRecall(recall, 2, 2),
            ArLarge: SummarizeRecall(recall, 3, 2),
            ApByCategory: apByCategory,
            Images: imageIds.Count,
            GroundTruthInstances: truth.Count,
            Detections: detections.Count);
    }

    private sealed record ImageEvaluation(double[] Scores, bool[,] DetectionMatched, bool[,] DetectionIgnored, bool[] TruthIgnored);

    /// <summary>COCOeval.evaluateImg for one image, category and area range.</summary>
    private static ImageEvaluation? EvaluateImage(
        List<GroundTruthInstance> truth,
        List<(DetectedInstance D, long Id)> detections,
        double[,] ious,
        (double Low, double High) area,
        int maxDet)
    {
        if (truth.Count == 0 && detections.Count == 0)
        {
            return null;
        }

        // Ground truth with ignored (crowd, or outside the area range) last; stable.
        int[] order = Enumerable.Range(0, truth.Count)
            .OrderBy(i => truth[i].IsCrowd || truth[i].Area < area.Low || truth[i].Area > area.High ? 1 : 0)
            .ToArray();
        int gCount = order.Length;
        bool[] truthIgnored = new bool[gCount];
        bool[] crowd = new bool[gCount];
        for (int j = 0; j < gCount; j++)
        {
            GroundTruthInstance g = truth[order[j]];
            truthIgnored[j] = g.IsCrowd || g.Area < area.Low || g.Area > area.High;
            crowd[j] = g.IsCrowd;
        }

        int dCount = Math.Min(detections.Count, maxDet);
        int t = s_iouThresholds.Length;
        var truthMatched = new bool[t, gCount];
        var detectionMatched = new bool[t, dCount];
        var detectionIgnored = new bool[t, dCount];
        if (gCount > 0 && dCount > 0)
        {
            for (int ti = 0; ti < t; ti++)
            {
                for (int di = 0; di < dCount; di++)
                {
                    double iou = Math.Min(s_iouThresholds[ti], 1 - 1e-10);
                    int match = -1;
                    for (int gi = 0; gi < gCount; gi++)
                    {
                        if (truthMatched[ti, gi] && !crowd[gi])
                        {
                            continue;
                        }

                        if (match > -1 && !truthIgnored[match] && truthIgnored[gi])
                        {
                            break;
                        }

                        double value = ious[di, order[gi]];
                        if (value < iou)
                        {
                            continue;
                        }

                        iou = value;
                        match = gi;
                    }

                    if (match == -1)
                    {
                        continue;
                    }

                    detectionIgnored[ti, di] = truthIgnored[match];
                    detectionMatched[ti, di] = true;
                    truthMatched[ti, match] = true;
                }
            }
        }

        double[] scores = new double[dCount];
        for (int di = 0; di < dCount; di++)
        {
            scores[di] = detections[di].D.Score;
            long detectionArea = detections[di].D.Mask.Area;
            bool outside = detectionArea < area.Low || detectionArea > area.High;
            for (int ti = 0; ti < t; ti++)
            {
                detectionIgnored[ti, di] |= !detectionMatched[ti, di] && outside;
            }
        }

        return new ImageEvaluation(scores, detectionMatched, detectionIgnored, truthIgnored);
    }

    /// <summary>COCOeval.accumulate for one category, area range and maxDets.</summary>
    private static void Accumulate(List<ImageEvaluation?[]> perImage, int ai, int maxDet, double[,,,,] precision, double[,,,] recall, int ki, int mi)
    {
        var entries = new List<(double Score, int Image, int Index)>();
        int truthNotIgnored = 0;
        bool any = false;
        for (int i = 0; i < perImage.Count; i++)
        {
            ImageEvaluation? e = perImage[i][ai];
            if (e is null)
            {
                continue;
            }

            any = true;
            for (int di = 0; di < Math.Min(maxDet, e.Scores.Length); di++)
            {
                entries.Add((e.Scores[di], i, di));
            }

            foreach (bool ignored in e.TruthIgnored)
            {
                truthNotIgnored += ignored ? 0 : 1;
            }
        }

        if (!any || truthNotIgnored == 0)
        {
            return;
        }

        // Stable sort by descending score (numpy mergesort).
        var sorted = entries.Select((x, i) => (x, i)).OrderBy(p => -p.x.Score).ThenBy(p => p.i).Select(p => p.x).ToList();
        int t = s_iouThresholds.Length;
        int r = s_recallThresholds.Length;
        for (int ti = 0; ti < t; ti++)
        {
            int nd = sorted.Count;
            double[] rc = new double[nd];
            double[] pr = new double[nd];
            double tp = 0;
            double fp = 0;
            for (int j = 0; j < nd; j++)
            {
                (_, int image, int index) = sorted[j];
                ImageEvaluation e = perImage[image][ai]!;
                bool matched = e.DetectionMatched[ti, index];
                bool ignored = e.DetectionIgnored[ti, index];
                if (matched && !ignored)
                {
                    tp++;
                }
                else if (!matched && !ignored)
                {
                    fp++;
                }

                rc[j] = tp / truthNotIgnored;
                pr[j] = tp / (fp + tp + s_spacing);
            }

            recall[ti, ki, ai, mi] = nd > 0 ? rc[^1] : 0;
            for (int j = nd - 1; j > 0; j--)
            {
                if (pr[j] > pr[j - 1])
                {
                    pr[j - 1] = pr[j];
                }
            }

            for (int ri = 0; ri < r; ri++)
            {
                // numpy searchsorted(rc, threshold, side="left"): the first index with rc >= threshold.
                int index = LowerBound(rc, s_recallThresholds[ri]);
                precision[ti, ri, ki, ai, mi] = index < nd ? pr[index] : 0;
            }
        }
    }

    private static int LowerBound(double[] values, double threshold)
    {
        int low = 0;
        int high = values.Length;
        while (low < high)
        {
            int mid = (low + high) / 2;
            if (values[mid] < threshold)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }

    private static double? SummarizePrecision(double[,,,,] precision, int? threshold, int area)
    {
        double sum = 0;
        int count = 0;
        for (int ti = 0; ti < precision.GetLength(0); ti++)
        {
            if (threshold is int only && ti != only)
            {
                continue;
            }

            for (int ri = 0; ri < precision.GetLength(1); ri++)
            {
                for (int ki = 0; ki < precision.GetLength(2); ki++)
                {
                    double v = precision[ti, ri, ki, area, 2];
                    if (v > -1)
                    {
                        sum += v;
                        count++;
                    }
                }
            }
        }

        return count == 0 ? null : sum / count;
    }

    private static double? MeanOf(double[,,,,] precision, Func<int, bool> thresholds, int ki, int area, int mi)
    {
        double sum = 0;
        int count = 0;
        for (int ti = 0; ti < precision.GetLength(0); ti++)
        {
            if (!thresholds(ti))
            {
                continue;
            }

            for (int ri = 0; ri < precision.GetLength(1); ri++)
            {
                double v = precision[ti, ri, ki, area, mi];
                if (v > -1)
                {
                    sum += v;
                    count++;
                }
            }
        }

        return count == 0 ? null : sum / count;
    }

    private static double? SummarizeRecall(double[,,,] recall, int area, int mi)
    {
        double sum = 0;
        int count = 0;
        for (int ti = 0; ti < recall.GetLength(0); ti++)
        {
            for (int ki = 0; ki < recall.GetLength(1); ki++)
            {
                double v = recall[ti, ki, area, mi];
                if (v > -1)
                {
                    sum += v;
                    count++;
                }
            }
        }

        return count == 0 ? null : sum / count;
    }

    /// <summary>numpy.linspace(start, stop, num): start + i·step, the last value exactly stop.</summary>
    private static double[] Linspace(double start, double stop, int num)
    {
        double step = (stop - start) / (num - 1);
        double[] values = new double[num];
        for (int i = 0; i < num; i++)
        {
            values[i] = (i * step) + start;
        }

        values[^1] = stop;
        return values;
    }

    private static List<TValue> Group<TKey, TValue>(Dictionary<TKey, List<TValue>> groups, TKey key)
        where TKey : notnull
    {
        if (!groups.TryGetValue(key, out List<TValue>? list))
        {
            list = [];
            groups[key] = list;
        }

        return list;
    }

    private static void Fill(Array array, double value)
    {
        // Multi-dimensional arrays are contiguous: fill them as one span.
        System.Runtime.InteropServices.MemoryMarshal.CreateSpan(
            ref System.Runtime.CompilerServices.Unsafe.As<byte, double>(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(array)),
            array.Length).Fill(value);
    }
}
