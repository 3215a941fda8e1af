using SegServe.Inference.Masks;

namespace SegServe.Inference.Instances;

/// <summary>
/// Pastes an RoI mask (the <c>S×S</c> probabilities a Mask R-CNN head predicts for a box) into the image, as detectron2's
/// <c>paste_masks_in_image</c> does — the RoIAlign idea in reverse: every image pixel's centre is mapped to continuous
/// coordinates inside the box (no rounding of the box edges) and the mask is sampled there bilinearly, cells outside
/// the mask counting as 0 (<c>grid_sample</c>, <c>align_corners=False</c>, zero padding); the pixel is set where the
/// probability is at least the threshold. Only the box's neighbourhood is visited, and the result goes straight into
/// COCO RLE: no full-image float mask is ever made.
/// </summary>
public static class RoiMaskPaster
{
    /// <summary>Pastes one mask; the box is in pixels of the <paramref name="width"/>×<paramref name="height"/> image.</summary>
    /// <param name="mask">The RoI mask's probabilities, row-major <c>size × size</c>.</param>
    /// <param name="size">The RoI mask's side (28 for Mask R-CNN).</param>
    /// <param name="x0">Box left edge (continuous).</param>
    /// <param name="y0">Box top edge.</param>
    /// <param name="x1">Box right edge.</param>
    /// <param name="y1">Box bottom edge.</param>
    /// <param name="width">Image width.</param>
    /// <param name="height">Image height.</param>
    /// <param name="threshold">Probability at or above which a pixel is set (detectron2 uses ≥ 0.5).</param>
    public static CocoRle Paste(ReadOnlySpan<float> mask, int size, float x0, float y0, float x1, float y1, int width, int height, float threshold)
    {
        if (mask.Length != size * size)
        {
            throw new ArgumentException($"The RoI mask holds {mask.Length} values, not {size}×{size}.", nameof(mask));
        }

        var runs = new RleBuilder(height, width);
        if (!(x1 > x0) || !(y1 > y0))
        {
            return runs.Build();
        }

        // Beyond half a cell outside the box every tap is outside the mask and the value is 0: visit only the box
        // grown by a cell (and a pixel) on each side — unless a threshold of 0 makes every pixel count.
        bool everywhere = threshold <= 0f;
        float cellWidth = (x1 - x0) / size;
        float cellHeight = (y1 - y0) / size;
        int xs = everywhere ? 0 : Math.Clamp((int)MathF.Floor(x0 - cellWidth - 1), 0, width);
        int xe = everywhere ? width : Math.Clamp((int)MathF.Ceiling(x1 + cellWidth + 1), 0, width);
        int ys = everywhere ? 0 : Math.Clamp((int)MathF.Floor(y0 - cellHeight - 1), 0, height);
        int ye = everywhere ? height : Math.Clamp((int)MathF.Ceiling(y1 + cellHeight + 1), 0, height);

        // Per row: the sampling row and its weight, computed once (float32, in PyTorch's order of operations).
        int rows = ye - ys;
        int[] rowIndex = new int[rows];
        float[] rowCoordinate = new float[rows];
        for (int y = ys; y < ye; y++)
        {
            float gy = ((((y + 0.5f) - y0) / (y1 - y0)) * 2f) - 1f;
            float iy = (((gy + 1f) * size) - 1f) / 2f;
            float floor = MathF.Floor(iy);
            rowIndex[y - ys] = (int)floor;
            rowCoordinate[y - ys] = iy;
        }

        for (int x = xs; x < xe; x++)
        {
            float gx = ((((x + 0.5f) - x0) / (x1 - x0)) * 2f) - 1f;
            float ix = (((gx + 1f) * size) - 1f) / 2f;
            float floorX = MathF.Floor(ix);
            int u = (int)floorX;
            float east = ix - floorX;
            float west = (floorX + 1f) - ix;
            for (int r = 0; r < rows; r++)
            {
                int v = rowIndex[r];
                float iy = rowCoordinate[r];
                float south = iy - v;
                float north = (v + 1f) - iy;
                // grid_sample's bilinear: nw·(se−p) … with taps outside the mask reading 0.
                float value = (Cell(mask, size, u, v) * (west * north))
                    + (Cell(mask, size, u + 1, v) * (east * north))
                    + (Cell(mask, size, u, v + 1) * (west * south))
                    + (Cell(mask, size, u + 1, v + 1) * (east * south));
                if (value >= threshold)
                {
                    runs.Set((x * height) + ys + r);
                }
            }
        }

        return runs.Build();
    }

    private static float Cell(ReadOnlySpan<float> mask, int size, int u, int v) =>
        (uint)u < (uint)size && (uint)v < (uint)size ? mask[(v * size) + u] : 0f;
}
