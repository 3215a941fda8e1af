using SegServe.Inference.Memory;

namespace SegServe.Inference.Evaluation;


/// <summary>
/// Scores a predicted label map against ground truth, with the semantics of mmsegmentation's IoUMetric: ground-truth
/// pixels equal to the ignore index are left out (of the prediction's counts too); a prediction outside
/// <c>[0, classCount − 1]</c> is a miss of its pixel's ground-truth class. Also the boundary bands of Boundary IoU
/// (Cheng et al. 2021): per class, the pixels of a mask within chessboard distance <c>d</c> of its contour, the
/// image border counting as contour, with <c>d = max(1, round(0.02 × image diagonal))</c>.
/// </summary>
public static class SemanticEvaluator
{
    /// <summary>Boundary band width for an image: 2% of its diagonal, at least one pixel.</summary>
    public static int BoundaryWidth(int width, int height) =>
        Math.Max(1, (int)Math.Round(0.02 * Math.Sqrt(((double)width * width) + ((double)height * height)), MidpointRounding.ToEven));

    /// <summary>Adds one image's counts to <paramref name="sums"/>.</summary>
    /// <exception cref="EvaluationInputException">Sizes differ, or the ground truth holds a label that is neither a class nor the ignore index.</exception>
    public static void Accumulate(Plane<ushort> prediction, Plane<ushort> groundTruth, int ignoreIndex, SemanticAccumulator sums)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(groundTruth);
        ArgumentNullException.ThrowIfNull(sums);
        if (prediction.Width != groundTruth.Width || prediction.Height != groundTruth.Height)
        {
            throw new EvaluationInputException(
                $"The prediction is {prediction.Width}×{prediction.Height} but the ground truth is {groundTruth.Width}×{groundTruth.Height}; they must have the same size.");
        }

        int classes = sums.ClassCount;
        CheckGroundTruth(groundTruth.Span, classes, ignoreIndex, groundTruth.Width);

        ReadOnlySpan<ushort> predicted = prediction.Span;
        ReadOnlySpan<ushort> truth = groundTruth.Span;
        long[] confusion = sums.Confusion;
        long[] outside = sums.PredictedOutside;
        var present = new bool[classes];
        for (int i = 0; i < truth.Length; i++)
        {
            int t = truth[i];
            if (t == ignoreIndex)
            {
                continue;
            }

            int p = predicted[i];
            present[t] = true;
            if ((uint)p < (uint)classes)
            {
                confusion[(t * classes) + p]++;
                present[p] = true;
            }
            else
            {
                outside[t]++;
            }
        }

        AccumulateBoundaries(prediction, groundTruth, ignoreIndex, present, sums);
    }

    private static void CheckGroundTruth(ReadOnlySpan<ushort> truth, int classes, int ignoreIndex, int width)
    {
        for (int i = 0; i < truth.Length; i++)
        {
            int t = truth[i];
            if ((uint)t >= (uint)classes && t != ignoreIndex)
            {
                var offending = new SortedSet<int>();
                foreach (ushort value in truth)
                {
                    if ((uint)value >= (uint)classes && value != ignoreIndex && offending.Count < 8)
                    {
                        offending.Add(value);
                    }
                }

                throw new EvaluationInputException(
                    $"The ground truth holds label {t} at pixel ({i % width}, {i / width}), outside the classes 0–{classes - 1} and not the ignore index {ignoreIndex} "
                    + $"(values found outside: {string.Join(", ", offending)}).");
            }
        }
    }

    /// <summary>Per class present: the two boundary bands, their intersection and union over non-ignored pixels.</summary>
    private static void AccumulateBoundaries(Plane<ushort> prediction, Plane<ushort> groundTruth, int ignoreIndex, bool[] present, SemanticAccumulator sums)
    {
        int width = groundTruth.Width;
        int height = groundTruth.Height;
        int n = width * height;
        int band = BoundaryWidth(width, height);
        int[] truthDistance = Memory.BufferPool.Rent<int>(n);
        int[] predictedDistance = Memory.BufferPool.Rent<int>(n);
        try
        {
            ReadOnlySpan<ushort> truth = groundTruth.Span;
            ReadOnlySpan<ushort> predicted = prediction.Span;
            for (int c = 0; c < present.Length; c++)
            {
                if (!present[c])
                {
                    continue;
                }

                ChessboardDistance(truth, c, width, height, truthDistance.AsSpan(0, n));
                ChessboardDistance(predicted, c, width, height, predictedDistance.AsSpan(0, n));
                long intersection = 0;
                long union = 0;
                for (int i = 0; i < n; i++)
                {
                    if (truth[i] == ignoreIndex)
                    {
                        continue;
                    }

                    int dt = truthDistance[i];
                    int dp = predictedDistance[i];
                    bool inTruthBand = dt > 0 && dt <= band;
                    bool inPredictedBand = dp > 0 && dp <= band;
                    intersection += inTruthBand && inPredictedBand ? 1 : 0;
                    union += inTruthBand || inPredictedBand ? 1 : 0;
                }

                sums.BoundaryIntersection[c] += intersection;
                sums.BoundaryUnion[c] += union;
            }
        }
        finally
        {
            Memory.BufferPool.Return(truthDistance);
            Memory.BufferPool.Return(predictedDistance);
        }
    }

    /// <summary>
    /// Chessboard distance of each pixel of the mask <c>labels == value</c> to the nearest pixel outside it, the area
    /// beyond the image counting as outside (0 for pixels not in the mask). Two raster passes; exact for the 8-neighbourhood.
    /// Equivalently: a pixel at distance k disappears at the k-th erosion by a 3×3 square with zero padding.
    /// </summary>
    internal static void ChessboardDistance(ReadOnlySpan<ushort> labels, int value, int width, int height, Span<int> distance)
    {
        const int Far = int.MaxValue / 2;
        for (int y = 0; y < height; y++)
        {
            int row = y * width;
            for (int x = 0; x < width; x++)
            {
                if (labels[row + x] != value)
                {
                    distance[row + x] = 0;
                    continue;
                }

                int best = Far;
                best = Math.Min(best, x > 0 ? distance[row + x - 1] : 0);
                if (y > 0)
                {
                    int above = row - width;
                    best = Math.Min(best, x > 0 ? distance[above + x - 1] : 0);
                    best = Math.Min(best, distance[above + x]);
                    best = Math.Min(best, x + 1 < width ? distance[above + x + 1] : 0);
                }
                else
                {
                    best = 0;
                }

                distance[row + x] = best + 1;
            }
        }

        for (int y = height - 1; y >= 0; y--)
        {
            int row = y * width;
            for (int x = width - 1; x >= 0; x--)
            {
                int d = distance[row + x];
                if (d == 0)
                {
                    continue;
                }

                int best = x + 1 < width ? distance[row + x + 1] : 0;
                if (y + 1 < height)
                {
                    int below = row + width;
                    best = Math.Min(best, x + 1 < width ? distance[below + x + 1] : 0);
                    best = Math.Min(best, distance[below + x]);
                    best = Math.Min(best, x > 0 ? distance[below + x - 1] : 0);
                }
                else
                {
                    best = 0;
                }

                distance[row + x] = Math.Min(d, best + 1);
            }
        }
    }
}
